import type { Incident } from '../contracts/incident.js';
import { htmlEscape } from '../notify/format.js';

/** A small self-contained page; every piece of text in it has been escaped by the caller. */
function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222}
button{font-size:1.1rem;padding:.6rem 1.4rem;cursor:pointer}p.muted{color:#666}</style></head>
<body>${body}</body></html>`;
}

const name = (i: Incident) => `#${htmlEscape(i.id)} — ${htmlEscape(i.title)}`;

/** GET: asks, changes nothing (mail scanners fetch links; only the button acknowledges). */
export function confirmPage(i: Incident, stateText: string): string {
  // action="": back to the link itself, whatever path prefix a reverse proxy put before /ack/.
  const form =
    i.state === 'firing'
      ? `<form method="post" action=""><button type="submit">Acknowledge</button></form>`
      : '<p>Nothing to acknowledge.</p>';
  return page(
    `Acknowledge incident #${htmlEscape(i.id)}`,
    `<h1>Acknowledge incident ${name(i)}?</h1>
<p>${htmlEscape(i.summary)}</p>
<p class="muted">${htmlEscape(stateText)}</p>
${form}`,
  );
}

export function donePage(i: Incident | undefined, message: string): string {
  return page('Acknowledged', `<h1>${i ? name(i) : 'Incident'}</h1><p>${htmlEscape(message)}</p>`);
}

/** Why a link does not work, in words for the person who clicked it. */
export function refusedPage(title: string, message: string): string {
  return page(htmlEscape(title), `<h1>${htmlEscape(title)}</h1><p>${htmlEscape(message)}</p>`);
}
