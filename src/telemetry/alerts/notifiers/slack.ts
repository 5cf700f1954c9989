// Slack-compatible incoming webhook (also accepted by Mattermost, Rocket.Chat, Discord's /slack
// endpoint): `text` for the notification preview and one attachment with colour and fields.
// Attachments rather than blocks because every Slack-compatible receiver renders them.
import { formatMs, formatValue } from '../units.ts';
import { headline } from '../notification.ts';
import type { Notification } from '../types.ts';

export interface SlackField {
  title: string;
  value: string;
  short: boolean;
}

export interface SlackAttachment {
  color: string;
  fallback: string;
  title: string;
  title_link?: string;
  text: string;
  fields: SlackField[];
  footer: string;
  ts: number;
  mrkdwn_in: string[];
}

export interface SlackMessage {
  text: string;
  attachments: SlackAttachment[];
}

/** Slack treats &, < and > as markup (links, mentions); anything from a user must be escaped. */
export function slackEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

const code = (text: string) => `\`${slackEscape(text).replaceAll('`', "'")}\``;
const iso = (ms: number) => new Date(ms).toISOString();

function color(n: Notification): string {
  if (n.type === 'alert' && n.status === 'resolved') return 'good';
  if (n.type === 'event' && (n.kind === 'deployment.succeeded' || n.kind === 'pipeline.succeeded')) return 'good';
  return n.severity === 'critical' ? 'danger' : n.severity === 'warning' ? 'warning' : '#439FE0';
}

export function slackPayload(n: Notification): SlackMessage {
  const fields: SlackField[] = [];
  let link: string | undefined;
  if (n.type === 'alert') {
    const a = n.alert;
    fields.push(
      { title: 'Value', value: formatValue(a.value, a.unit), short: true },
      { title: 'Threshold', value: `${a.comparison} ${formatValue(a.threshold, a.unit)}${a.scale === null ? '' : ` (×${a.scale} during deployment)`}`, short: true },
      { title: 'Window', value: formatMs(a.windowMs), short: true },
      { title: 'Since', value: iso(a.since), short: true },
    );
    if (a.instances.length > 0) fields.push({ title: 'Instances', value: slackEscape(a.instances.join(', ')), short: false });
    fields.push({ title: 'Drill down', value: code(n.drilldown.command), short: false });
    link = n.drilldown.url;
  } else {
    if (n.drilldown?.command) fields.push({ title: 'Drill down', value: code(n.drilldown.command), short: false });
    link = n.drilldown?.url;
  }
  const title = headline(n);
  const attachment: SlackAttachment = {
    color: color(n),
    fallback: slackEscape(title),
    title: slackEscape(title),
    text: slackEscape(n.text),
    fields,
    footer: 'slipway',
    ts: Math.floor(n.at / 1000),
    mrkdwn_in: ['text', 'fields'],
  };
  if (link) attachment.title_link = link;
  return { text: slackEscape(title), attachments: [attachment] };
}
