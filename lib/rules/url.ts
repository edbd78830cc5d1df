/**
 * URLs in manifests and props, one reading for the constructs (NetworkPolicy wiring, env checks) and
 * for `cdk8s-ml check` (env-url, network-reachability): which host is an in-cluster Service, which
 * text names object storage, which port a URL connects to.
 */
import { isReferenceOnly } from './credentials';
import { DNS1123_LABEL_PATTERN } from './dns';

/** The port a URL connects to: its own, else the scheme's default. */
export function urlPort(url: URL): number {
  return url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/** http(s) URLs inside a longer value. */
export const URL_RE = /\bhttps?:\/\/[^\s"'<>,;]+/g;

/** The http(s) URLs in a text that parse (`new URL`), each with the text it was written as; the rest are skipped. */
export function parsedUrlsIn(text: string): { readonly raw: string; readonly url: URL }[] {
  const out: { raw: string; url: URL }[] = [];
  for (const raw of text.match(URL_RE) ?? []) {
    try {
      out.push({ raw, url: new URL(raw) });
    } catch {
      // not a URL after all (e.g. 'http://' followed by a shell variable): nothing to connect to
    }
  }
  return out;
}

/** A Service by namespace and name. */
export interface ServiceRef {
  namespace: string;
  name: string;
}

/**
 * The Service an in-cluster host refers to, or undefined for external hosts.
 * `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`; `svc.ns` counts only
 * when ns is a namespace we deploy to, so `example.com` stays external.
 */
export function inClusterService(host: string, podNamespace: string, namespaces: ReadonlySet<string>): ServiceRef | undefined {
  const labels = host.toLowerCase().split('.');
  if (labels.length === 1) return host === 'localhost' ? undefined : { namespace: podNamespace, name: labels[0] };
  const [name, ns, ...rest] = labels;
  const suffix = rest.join('.');
  if (suffix === 'svc' || suffix === 'svc.cluster.local') return { namespace: ns, name };
  if (suffix === '' && namespaces.has(ns)) return { namespace: ns, name };
  return undefined;
}

/** inClusterService, plus the per-pod names of a headless Service: `<pod>.<svc>.<ns>.svc`. */
export function serviceOfHost(host: string, podNamespace: string, namespaces: ReadonlySet<string>): ServiceRef | undefined {
  const labels = host.toLowerCase().split('.');
  const suffix = labels.slice(3).join('.');
  if (labels.length >= 4 && (suffix === 'svc' || suffix === 'svc.cluster.local')) return { namespace: labels[2], name: labels[1] };
  return inClusterService(host, podNamespace, namespaces);
}

const SERVICE_DNS_NAME = new RegExp(`^${DNS1123_LABEL_PATTERN}\\.(${DNS1123_LABEL_PATTERN})\\.svc(\\.cluster\\.local)?$`);

/** The namespace of a fully written Service DNS name (`<service>.<namespace>.svc[.cluster.local]`), else undefined. */
export function serviceDnsNamespace(host: string): string | undefined {
  return SERVICE_DNS_NAME.exec(host)?.[2];
}

export function isLoopbackOrUnspecified(host: string): boolean {
  return host === 'localhost' || host === '0.0.0.0' || host === '[::1]' || host === '[::]' || /^127\./.test(host);
}

/** s3:// and gs:// URIs inside a longer value. */
const OBJECT_STORE_URI = /\b(?:s3|gs):\/\/[^\s"'<>,;]*/g;
/** rclone connection-string remotes (`:s3,provider=AWS,env_auth=true:bucket/path`); with endpoint=, the endpoint URL is what is called. */
const RCLONE_REMOTE = /(?:^|[\s"'=]):(?:s3|gcs),[^\s:]*:[^\s"']*/g;

/**
 * The mentions of cloud object storage (reached over HTTPS, outside the cluster) in a text: s3:// and
 * gs:// URIs, and rclone remotes without an endpoint (with one, the endpoint URL is what is called).
 */
export function objectStoreMentions(text: string): string[] {
  const remotes = (text.match(RCLONE_REMOTE) ?? []).filter((m) => !/[,:]endpoint=/.test(m)).map((m) => m.replace(/^[\s"'=]/, ''));
  return [...(text.match(OBJECT_STORE_URI) ?? []), ...remotes];
}

/** `scheme://userinfo@` inside a longer value; userinfo holds no '/', '?', '#' or '@' (RFC 3986 §3.2.1). */
const USERINFO_RE = /\b([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^\s/?#@"'<>]*)@/g;

/** Whether a URL's userinfo carries a credential written out: a password, or for http(s) the user alone (a token as user). */
function userinfoIsCredential(scheme: string, userinfo: string): boolean {
  const colon = userinfo.indexOf(':');
  // `$(DB_PASSWORD)` is filled in at run time (from a Secret): not written out.
  const literal = (s: string) => !isReferenceOnly(s);
  if (colon >= 0) return literal(userinfo.slice(colon + 1));
  // ssh://git@host and postgres://reader@db name a user; https://ghp_xxx@github.com sends the token as the user.
  return /^https?$/i.test(scheme) && literal(userinfo);
}

/**
 * The URLs of a text (any scheme: https, s3, postgres...) that carry a credential in their userinfo
 * (`https://user:pass@host`), and the text with every such userinfo masked, for messages.
 */
export function urlCredentialsIn(text: string): { readonly count: number; readonly masked: string } {
  let count = 0;
  const masked = text.replace(USERINFO_RE, (whole, scheme: string, userinfo: string) => {
    if (!userinfoIsCredential(scheme, userinfo)) return whole;
    count++;
    return `${scheme}://***@`;
  });
  return { count, masked };
}
