import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

/**
 * A real SMTP server inside the test (the npm smtp-server): it speaks the protocol to
 * nodemailer over TCP and keeps every accepted message, parsed. `rejectNext` makes the next
 * DATA fail with a temporary 451, as a busy relay would.
 */
export class SmtpSink {
  readonly messages: { raw: Buffer; parsed: ParsedMail; envelopeTo: string[] }[] = [];
  rejectNext = 0;
  rejected = 0;
  private readonly server: SMTPServer;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (this.rejectNext > 0) {
            this.rejectNext--;
            this.rejected++;
            const error = Object.assign(new Error('mailbox busy, try again later'), { responseCode: 451 });
            callback(error);
            return;
          }
          const raw = Buffer.concat(chunks);
          simpleParser(raw, { keepCidLinks: true }).then(
            (parsed) => {
              this.messages.push({ raw, parsed, envelopeTo: session.envelope.rcptTo.map((r) => r.address) });
              callback();
            },
            (error: Error) => callback(error),
          );
        });
      },
    });
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.server.address() as { port: number }).port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
