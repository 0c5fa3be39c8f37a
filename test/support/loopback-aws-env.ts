// The AWS SDK's default credential chain falls back to the EC2 instance metadata endpoint; tests
// talk only to loopback servers, so give them static credentials and switch the metadata lookup off.
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
