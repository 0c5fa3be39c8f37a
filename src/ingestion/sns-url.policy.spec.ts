import { SNS_HOST, SnsUrlPolicy } from './sns-url.policy';

describe('SNS_HOST', () => {
  it.each([
    'sns.us-east-1.amazonaws.com',
    'sns.eu-west-1.amazonaws.com',
    'sns.eu-west-3.amazonaws.com',
    'sns.ap-southeast-2.amazonaws.com',
    'sns.ap-southeast-5.amazonaws.com',
    'sns.ap-northeast-3.amazonaws.com',
    'sns.ca-central-1.amazonaws.com',
    'sns.il-central-1.amazonaws.com',
    'sns.us-gov-west-1.amazonaws.com',
    'sns.us-gov-east-1.amazonaws.com',
    'sns.cn-north-1.amazonaws.com.cn',
    'sns.cn-northwest-1.amazonaws.com.cn',
  ])(
    'accepts %s',
    (host) => expect(SNS_HOST.test(host)).toBe(true),
  );

  it.each([
    'sns.us-east-1.amazonaws.com.evil.com',
    'evilsns.us-east-1.amazonaws.com',
    'evil.sns.us-east-1.amazonaws.com',
    'sns.us-east-1.amazonaws.comx',
    'sns.us-east-1.amazonaws.com.cn.evil.com',
    'sns.us-east-1.amazonawsxcom',
    'snsxus-east-1.amazonaws.com',
    'sns..amazonaws.com',
    'sns.amazonaws.com',
    'sqs.us-east-1.amazonaws.com',
    'sns.us-east-1.evil.com',
    'sns.us-east-1.amazonaws.com\n',
    // Shaped like a region but not one: each would cost a DNS lookup for a host that does not exist.
    'sns.anything-at-all-1.amazonaws.com',
    'sns.xx-attacker-1.amazonaws.com',
    'sns.us-east-east-east-1.amazonaws.com',
    'sns.us-eastwest-1.amazonaws.com',
    'sns.us-gov-gov-west-1.amazonaws.com',
    'sns.usa-east-1.amazonaws.com',
    'sns.us-east-123.amazonaws.com',
    'sns.us-east-1a.amazonaws.com',
    'sns.us-east.amazonaws.com',
    'sns.us-east-1.amazonaws.com.cn', // .com.cn is for the China regions only
    'sns.cn-north-1.amazonaws.com', // and they only live there
    'sns.cn-gov-north-1.amazonaws.com.cn',
  ])('refuses %j', (host) => expect(SNS_HOST.test(host)).toBe(false));
});

describe('SnsUrlPolicy', () => {
  const strict = new SnsUrlPolicy();
  const pem = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem';

  it('accepts an HTTPS certificate URL on an SNS host', () => {
    expect(strict.isAllowedCertUrl(pem)).toBe(true);
    expect(strict.isAllowedCertUrl('https://SNS.US-EAST-1.AMAZONAWS.COM/SimpleNotificationService-ab12.pem')).toBe(true); // hosts are case-insensitive
    expect(strict.isAllowedCertUrl('https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem')).toBe(true);
  });

  it.each([
    ['any other .pem', 'https://sns.us-east-1.amazonaws.com/x.pem'],
    ['a certificate name in a folder', 'https://sns.us-east-1.amazonaws.com/a/SimpleNotificationService-0123abcd.pem'],
    ['a name without the hash', 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-.pem'],
    ['a hash that is not hex', 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-xyz.pem'],
    ['an upper-case hash', 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-ABCDEF.pem'],
    ['another prefix', 'https://sns.us-east-1.amazonaws.com/SimpleNotificationServiceX-0123.pem'],
    ['another suffix', 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123.pem.bak'],
    ['an encoded slash', 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123%2F.pem'],
  ])('refuses, on an SNS host, a certificate path that is not SNS certificate naming: %s', (_why, url) => {
    expect(strict.isAllowedCertUrl(url)).toBe(false);
  });

  it.each([
    ['plain http', pem.replace('https:', 'http:')],
    ['a host that only ends like SNS', pem.replace('.com/', '.com.evil.com/')],
    ['a host that only contains sns', pem.replace('//sns.', '//evilsns.')],
    ['a subdomain of an SNS host', pem.replace('//sns.', '//a.sns.')],
    ['credentials hiding the host', pem.replace('.com/', '.com@evil.com/')],
    ['credentials before an SNS host', pem.replace('//', '//user:pw@')],
    ['another port', pem.replace('.com/', '.com:8443/')],
    ['a query', `${pem}?x=1`],
    ['a fragment', `${pem}#x`],
    ['a look-alike region', 'https://sns.xx-attacker-1.amazonaws.com/SimpleNotificationService-0123.pem'],
    ['not a .pem', 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe'],
    ['another scheme', 'file:///etc/passwd'],
    ['not a URL', 'sns.us-east-1.amazonaws.com/x.pem'],
    ['a loopback address', 'https://127.0.0.1/x.pem'],
  ])('refuses a certificate URL with %s', (_why, url) => {
    expect(strict.isAllowedCertUrl(url)).toBe(false);
  });

  it('accepts a SubscribeURL on an SNS host over HTTPS only', () => {
    const url = 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:123456789012:t&Token=abc';
    expect(strict.isAllowedSubscribeUrl(url)).toBe(true);
    expect(strict.isAllowedSubscribeUrl(url.replace('https:', 'http:'))).toBe(false);
    expect(strict.isAllowedSubscribeUrl('https://example.com/?Action=ConfirmSubscription')).toBe(false);
    expect(strict.isAllowedSubscribeUrl('http://169.254.169.254/latest/meta-data/')).toBe(false);
  });

  it('trusts configured prefixes by origin and path, not by string prefix', () => {
    const policy = new SnsUrlPolicy(['http://127.0.0.1:4000/certs']);
    expect(policy.isAllowedCertUrl('http://127.0.0.1:4000/certs/a.pem')).toBe(true);
    expect(policy.isAllowedCertUrl('http://127.0.0.1:40000/certs/a.pem')).toBe(false);
    expect(policy.isAllowedCertUrl('http://127.0.0.1:4000/certsx/a.pem')).toBe(false);
    expect(policy.isAllowedCertUrl('http://127.0.0.1:4000/other/a.pem')).toBe(false);
    expect(policy.isAllowedCertUrl('http://127.0.0.1:4000@evil.com/certs/a.pem')).toBe(false);
    expect(policy.isAllowedSubscribeUrl('http://127.0.0.1:4000/certs/confirm?x=1')).toBe(true);
    expect(strict.isAllowedCertUrl('http://127.0.0.1:4000/certs/a.pem')).toBe(false);
  });
});
