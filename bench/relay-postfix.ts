/**
 * The baseline of bench/relay: a private Postfix instance + OpenDKIM, configured in a temp
 * directory on loopback ports (never the system instance, never port 25), relaying to a sink
 * and signing with an RSA-2048 key. Started with `master -c DIR -d` and `opendkim -f`; stopped
 * by their process ids.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';

const MASTER = '/usr/lib/postfix/sbin/master';

/** Installs postfix, opendkim and opendkim-tools with apt-get when missing (no system instance is configured or started). */
export function ensurePostfixPackages(): void {
  const have = (bin: string) => { try { execFileSync('sh', ['-c', `command -v ${bin} || test -x ${bin}`], { stdio: 'ignore' }); return true; } catch { return false; } };
  if (have('smtp-source') && have('smtp-sink') && have(MASTER) && have('opendkim') && have('opendkim-genkey')) return;
  if (userInfo().uid !== 0) throw new Error('postfix/opendkim are missing and installing them needs root: apt-get install postfix opendkim opendkim-tools');
  // "No configuration": the package installs no main.cf, so no system instance can start.
  execFileSync('sh', ['-c', 'echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections'], { stdio: 'inherit' });
  execFileSync('flock', ['/tmp/tegami-apt.lock', 'apt-get', 'install', '-y', '-q', 'postfix', 'opendkim', 'opendkim-tools'], {
    stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

function mainCf(dir: string, sinkPort: number, milterPort: number): string {
  return `compatibility_level = 3.6
queue_directory = ${dir}/queue
data_directory = ${dir}/data
meta_directory = /etc/postfix
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = /dev/stdout
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = postfix.bench.localdomain
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:${sinkPort}
smtp_tls_security_level = none
smtpd_milters = inet:127.0.0.1:${milterPort}
non_smtpd_milters =
milter_default_action = tempfail
default_process_limit = 100
`;
}

function masterCf(smtpdPort: number): string {
  return [
    `127.0.0.1:${smtpdPort} inet n - n - - smtpd`,
    'pickup unix n - n 60 1 pickup', 'cleanup unix n - n - 0 cleanup', 'qmgr unix n - n 300 1 qmgr',
    'rewrite unix - - n - - trivial-rewrite', 'bounce unix - - n - 0 bounce', 'defer unix - - n - 0 bounce', 'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify', 'flush unix n - n 1000? 0 flush', 'proxymap unix - - n - - proxymap', 'smtp unix - - n - - smtp',
    'relay unix - - n - - smtp', 'showq unix n - n - - showq', 'error unix - - n - - error', 'retry unix - - n - - error',
    'discard unix - - n - - discard', 'local unix - n n - - local', 'anvil unix - - n - 1 anvil', 'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd', '',
  ].join('\n');
}

/** A running private Postfix + OpenDKIM. */
export interface PostfixRelay {
  port: number;
  stop(): Promise<void>;
}

/** Configures and starts Postfix (smtpd on `smtpdPort`, relayhost = the sink) with OpenDKIM as its milter. */
export async function startPostfixRelay(dir: string, o: { smtpdPort: number; milterPort: number; sinkPort: number; domain: string }): Promise<PostfixRelay> {
  const pdir = join(dir, 'postfix');
  mkdirSync(join(pdir, 'queue'), { recursive: true });
  mkdirSync(join(pdir, 'data'), { recursive: true });
  mkdirSync(join(pdir, 'dkim'), { recursive: true });
  chmodSync(dir, 0o755);
  chmodSync(pdir, 0o755);
  writeFileSync(join(pdir, 'main.cf'), mainCf(pdir, o.sinkPort, o.milterPort));
  writeFileSync(join(pdir, 'master.cf'), masterCf(o.smtpdPort));
  execFileSync('/etc/postfix/post-install', [
    `config_directory=${pdir}`, `queue_directory=${pdir}/queue`, `data_directory=${pdir}/data`, 'command_directory=/usr/sbin',
    'daemon_directory=/usr/lib/postfix/sbin', 'meta_directory=/etc/postfix', 'mail_owner=postfix', 'setgid_group=postdrop', 'create-missing',
  ], { stdio: 'ignore' });
  execFileSync('chown', ['postfix', join(pdir, 'data')]);
  // OpenDKIM: RSA-2048, relaxed/relaxed, From over-signed (this OpenDKIM build refuses Ed25519 keys).
  execFileSync('opendkim-genkey', ['-b', '2048', '-d', o.domain, '-s', 'bench', '-D', join(pdir, 'dkim')]);
  execFileSync('chown', ['-R', 'opendkim', join(pdir, 'dkim')]);
  writeFileSync(join(pdir, 'opendkim.conf'), [
    'Syslog no', 'Background no', `Socket inet:${o.milterPort}@127.0.0.1`, 'Mode s', 'Canonicalization relaxed/relaxed',
    `Domain ${o.domain}`, 'Selector bench', `KeyFile ${join(pdir, 'dkim', 'bench.private')}`, 'OversignHeaders From',
    'RequireSafeKeys false', 'UserID opendkim', 'InternalHosts 127.0.0.1', '',
  ].join('\n'));
  const procs: ChildProcess[] = [];
  const dkim = spawn('opendkim', ['-f', '-x', join(pdir, 'opendkim.conf')], { stdio: 'ignore' });
  procs.push(dkim);
  const master = spawn(MASTER, ['-c', pdir, '-d'], { stdio: ['ignore', 'ignore', 'inherit'] });
  procs.push(master);
  const stop = async () => {
    for (const p of procs.reverse()) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    }
  };
  return { port: o.smtpdPort, stop };
}
