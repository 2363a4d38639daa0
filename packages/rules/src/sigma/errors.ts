/** A Sigma rule trailstream cannot compile; the message says what and where. */
export class SigmaRuleError extends Error {
  override readonly name = "SigmaRuleError";
  readonly file: string | undefined;

  constructor(message: string, file?: string) {
    super(file ? `${file}: ${message}` : message);
    this.file = file;
  }
}
