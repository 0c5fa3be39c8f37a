// Loaded first by s3-server.mjs, the S3 test server. fauxqs 2.4.1 sorts a
// listing with localeCompare but pages it with `key <= startAfter`: where the two orders disagree
// ('_' sorts before '.' in the locale order, after it in code-unit order) a ListObjectsV2 page
// boundary skips one key and repeats another, e.g. with 2,000 keys under processed/ mixing
// `<name>.csv` and `<name>_summary.json`. S3 lists in binary (UTF-8 byte) order; sorting by code
// units for the duration of a listing makes fauxqs consistent with that (identical except for
// characters beyond the BMP).
import { S3Store } from '../../node_modules/fauxqs/dist/s3/s3Store.js';

const listObjects = S3Store.prototype.listObjects;
if (!listObjects.binaryOrder) {
  const binary = function (other) {
    const a = String(this);
    return a < other ? -1 : a > other ? 1 : 0;
  };
  const patched = function (...args) {
    const locale = String.prototype.localeCompare;
    String.prototype.localeCompare = binary;
    try {
      return listObjects.apply(this, args);
    } finally {
      String.prototype.localeCompare = locale;
    }
  };
  patched.binaryOrder = true;
  S3Store.prototype.listObjects = patched;
}
