import { SNS_HOST, SnsUrlPolicy } from './sns-url.policy';

describe('SNS_HOST', () => {
  it.each(['sns.us-east-1.amazonaws.com', 'sns.eu-west-1.amazonaws.com', 'sns.us-gov-west-1.amazonaws.com', 'sns.cn-north-1.amazonaws.com.cn', 'sns.ap-southeast-5.amazonaws.com'])(
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
  ])('refuses %j', (host) => expect(SNS_HOST.test(host)).toBe(false));
});

describe('SnsUrlPolicy', () => {
  const strict = new SnsUrlPolicy();
  const pem = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem';

  it('accepts an HTTPS certificate URL on an SNS host', () => {
    expect(strict.isAllowedCertUrl(pem)).toBe(true);
    expect(strict.isAllowedCertUrl('https://SNS.US-EAST-1.AMAZONAWS.COM/x.pem')).toBe(true); // hosts are case-insensitive
    expect(strict.isAllowedCertUrl('https://sns.cn-north-1.amazonaws.com.cn/x.pem')).toBe(true);
  });

  it.each([
    ['plain http', 'http://sns.us-east-1.amazonaws.com/x.pem'],
    ['a host that only ends like SNS', 'https://sns.us-east-1.amazonaws.com.evil.com/x.pem'],
    ['a host that only contains sns', 'https://evilsns.us-east-1.amazonaws.com/x.pem'],
    ['a subdomain of an SNS host', 'https://a.sns.us-east-1.amazonaws.com/x.pem'],
    ['credentials hiding the host', 'https://sns.us-east-1.amazonaws.com@evil.com/x.pem'],
    ['credentials before an SNS host', 'https://user:pw@sns.us-east-1.amazonaws.com/x.pem'],
    ['another port', 'https://sns.us-east-1.amazonaws.com:8443/x.pem'],
    ['a query', 'https://sns.us-east-1.amazonaws.com/x.pem?x=1'],
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
