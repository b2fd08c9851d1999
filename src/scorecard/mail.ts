import nodemailer, { type Transporter } from 'nodemailer';
import type { ScorecardConfig } from './config.ts';
import type { ComposedScorecard } from './compose.ts';

export type MailTransport = Pick<Transporter, 'sendMail' | 'close'>;

/** SMTP from the `scorecard.smtp` section; the password only from its environment variable. */
export function smtpTransport(smtp: NonNullable<ScorecardConfig['smtp']>, env: NodeJS.ProcessEnv = process.env): MailTransport {
  const pass = env[smtp.passwordEnv];
  return nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    requireTLS: smtp.requireTls,
    ...(smtp.user ? { auth: { user: smtp.user, pass: pass ?? '' } } : {}),
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 60_000,
  });
}

/** One Message-ID per (team, week): a copy sent again after a crash is recognisably the same mail. */
export function scorecardMessageId(team: string, week: string): string {
  return `<scorecard.${week}.${team.replace(/[^A-Za-z0-9.-]/g, '_')}@seamwatch>`;
}

/** The multipart/alternative mail (text, then HTML with its charts as related inline parts). */
export function scorecardMail(composed: ComposedScorecard, from: string, to: readonly string[]) {
  return {
    from,
    to: [...to],
    subject: composed.subject,
    messageId: scorecardMessageId(composed.view.team, composed.view.week),
    text: composed.text,
    html: composed.html,
    attachments: composed.charts.map((c) => ({ filename: c.filename, content: c.png, cid: c.cid, contentType: 'image/png', contentDisposition: 'inline' as const })),
  };
}
