// The raw CloudTrail record the enricher's unit tests build their batches from.

/** An IAM CreateUser management event with the given eventID, account and extra or overridden fields. */
export function event(id: string, account = "111122223333", extra: Record<string, unknown> = {}) {
  return {
    eventVersion: "1.11",
    eventTime: "2026-11-25T09:58:00Z",
    eventSource: "iam.amazonaws.com",
    eventName: "CreateUser",
    awsRegion: "us-east-1",
    eventID: id,
    recipientAccountId: account,
    readOnly: false,
    managementEvent: true,
    eventCategory: "Management",
    ...extra,
  };
}
