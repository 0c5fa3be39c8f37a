import { SnsMessageError } from './ingestion.errors';
import { parseSnsMessage, stringToSign } from './sns-message';

const notification = {
  Type: 'Notification',
  MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
  TopicArn: 'arn:aws:sns:us-west-2:123456789012:MyTopic',
  Subject: 'My First Message',
  Message: 'Hello world!',
  Timestamp: '2012-05-02T00:54:06.655Z',
  SignatureVersion: '1',
  Signature: 'EXAMPLEw6JRN==',
  SigningCertURL: 'https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem',
  UnsubscribeURL: 'https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x',
};

const confirmation = {
  Type: 'SubscriptionConfirmation',
  MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b',
  Token: '2336412f37f',
  TopicArn: 'arn:aws:sns:us-west-2:123456789012:MyTopic',
  Message: 'You have chosen to subscribe to the topic.',
  SubscribeURL: 'https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f37f',
  Timestamp: '2012-04-26T20:45:04.751Z',
  SignatureVersion: '2',
  Signature: 'EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=',
  SigningCertURL: 'https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem',
};

describe('parseSnsMessage', () => {
  it('reads a JSON string (text/plain) and an object (application/json) alike', () => {
    expect(parseSnsMessage(JSON.stringify(notification))).toEqual(notification);
    expect(parseSnsMessage(notification)).toEqual(notification);
    expect(parseSnsMessage(confirmation)).toEqual(confirmation);
  });

  it('keeps only the documented fields', () => {
    const parsed = parseSnsMessage({ ...notification, Extra: 'x', MessageAttributes: {} }) as unknown as Record<string, unknown>;
    expect(parsed.Extra).toBeUndefined();
    expect(parsed.MessageAttributes).toBeUndefined();
  });

  it('treats a null Subject as absent', () => {
    expect(parseSnsMessage({ ...notification, Subject: null })).not.toHaveProperty('Subject');
  });

  it.each([
    ['not JSON', '{"Type":'],
    ['an array', '[]'],
    ['an unknown Type', { ...notification, Type: 'Other' }],
    ['a missing MessageId', { ...notification, MessageId: undefined }],
    ['a number Message', { ...notification, Message: 42 }],
    ['a bad SignatureVersion', { ...notification, SignatureVersion: '3' }],
    ['a numeric SignatureVersion', { ...notification, SignatureVersion: 1 }],
    ['a bad TopicArn', { ...notification, TopicArn: 'arn:aws:sqs:us-west-2:123456789012:q' }],
    ['a bad Timestamp', { ...notification, Timestamp: 'yesterday' }],
    ['a Signature that is not base64', { ...notification, Signature: 'not base64!' }],
    ['a confirmation without SubscribeURL', { ...confirmation, SubscribeURL: undefined }],
    ['a confirmation without Token', { ...confirmation, Token: undefined }],
    ['a non-string Subject', { ...notification, Subject: 5 }],
  ])('refuses %s', (_why, body) => {
    expect(() => parseSnsMessage(body)).toThrow(SnsMessageError);
  });
});

describe('stringToSign', () => {
  it('lists the notification fields in the documented order, Subject included when present', () => {
    expect(stringToSign(parseSnsMessage(notification))).toBe(
      'Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nSubject\nMy First Message\n' +
        'Timestamp\n2012-05-02T00:54:06.655Z\nTopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nNotification\n',
    );
    const { Subject: _s, ...noSubject } = notification;
    expect(stringToSign(parseSnsMessage(noSubject))).not.toContain('Subject');
  });

  it('lists the confirmation fields, SubscribeURL and Token included', () => {
    expect(stringToSign(parseSnsMessage(confirmation))).toBe(
      'Message\nYou have chosen to subscribe to the topic.\nMessageId\n165545c9-2a5c-472c-8df2-7ff2be2b3b1b\n' +
        'SubscribeURL\nhttps://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f37f\n' +
        'Timestamp\n2012-04-26T20:45:04.751Z\nToken\n2336412f37f\nTopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\n' +
        'Type\nSubscriptionConfirmation\n',
    );
  });
});
