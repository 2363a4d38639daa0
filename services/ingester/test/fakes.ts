// Fakes of the clients the sources use, recording what they were asked.
import type { OutgoingMessage, Producer } from "@trailstream/kafka";
import { createLogger, type Logger } from "@trailstream/runtime";

export class FakeProducer implements Producer {
  readonly sent: { topic: string; messages: OutgoingMessage[] }[] = [];
  fail: Error | undefined;
  delayMs = 0;
  async send(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.fail) throw this.fail;
    this.sent.push({ topic, messages: [...messages] });
  }
  async close(): Promise<void> {}
  values(topic: string): unknown[] {
    return this.sent
      .filter((s) => s.topic === topic)
      .flatMap((s) => s.messages.map((m) => JSON.parse(String(m.value))));
  }
}

export const silent: Logger = createLogger("test", "silent");

/** A stand-in for an SDK client: `send` answers by command class name. */
export function fakeClient(handlers: Record<string, (input: Record<string, unknown>) => unknown>) {
  const calls: { name: string; input: Record<string, unknown> }[] = [];
  return {
    calls,
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name;
      calls.push({ name, input: command.input });
      const handler = handlers[name];
      if (!handler) throw new Error(`fake client: no handler for ${name}`);
      return handler(command.input);
    },
    destroy: () => {},
  };
}
