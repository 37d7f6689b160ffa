"""A real Dovecot for the mailbox tests: Debian's dovecot-imapd and dovecot-lmtpd, run as an
unprivileged process from a configuration written into a temporary directory, listening on
loopback ports, with one passwd-file user per mailbox. Mail is delivered over LMTP, as an MTA
would; imaplib reads flags back.
"""
import imaplib
import os
import pathlib
import pwd
import grp
import shutil
import smtplib
import socket
import subprocess
import time

from procedo_server import free_port, wait_for

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"

CONFIG = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_location = maildir:{dir}/mail/%u
# IDLE hears of new mail by inotify; where that is not delivered, Dovecot looks again this often.
mailbox_idle_check_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={dir}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
  unix_listener lmtp {{
    mode = 0
  }}
}}
service anvil {{
  chroot =
}}
service pop3-login {{
  chroot =
}}
service submission-login {{
  chroot =
}}
service imap-urlauth-login {{
  chroot =
}}
"""


class Dovecot:
    def __init__(self, tmp, users):
        self.dir = pathlib.Path(tmp) / "dovecot"
        self.users = dict(users)
        self.imap_port = free_port()
        self.lmtp_port = free_port()
        self.proc = None

    def start(self):
        # Dovecot refuses to run its login processes as root: under root (a CI container) the
        # whole server runs as nobody, which then owns its directory.
        as_root = os.geteuid() == 0
        user = pwd.getpwnam("nobody") if as_root else pwd.getpwuid(os.geteuid())
        group = grp.getgrgid(user.pw_gid)
        for sub in ("run", "state", "mail"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        (self.dir / "passwd").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in self.users.items()))
        (self.dir / "dovecot.conf").write_text(CONFIG.format(
            dir=self.dir, user=user.pw_name, group=group.gr_name, uid=user.pw_uid, gid=user.pw_gid,
            imap_port=self.imap_port, lmtp_port=self.lmtp_port))
        preexec = None
        if as_root:
            for path in [self.dir, *self.dir.rglob("*")]:
                os.chown(path, user.pw_uid, user.pw_gid)
            parent = self.dir.parent
            while parent != parent.parent:  # nobody must reach the directory
                os.chmod(parent, os.stat(parent).st_mode | 0o005)
                parent = parent.parent

            def preexec():
                os.setgroups([])
                os.setgid(user.pw_gid)
                os.setuid(user.pw_uid)
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.dir / "dovecot.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                     preexec_fn=preexec)
        wait_for(self._listening, 20, "dovecot to listen")
        return self

    def _listening(self):
        if self.proc.poll() is not None:
            log = self.dir / "dovecot.log"
            raise AssertionError(f"dovecot exited with {self.proc.returncode}: "
                                 + (log.read_text()[-2000:] if log.exists() else ""))
        try:
            with socket.create_connection(("127.0.0.1", self.imap_port), timeout=1) as s:
                return s.recv(100).startswith(b"* OK")
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)
        self.proc = None

    def deliver(self, message, sender="utente@example.it", user="helpdesk"):
        """Over LMTP, as the mail system delivers it; `sender` is the envelope's (MAIL FROM)."""
        raw = message.as_bytes() if hasattr(message, "as_bytes") else message
        with smtplib.LMTP("127.0.0.1", self.lmtp_port) as lmtp:
            lmtp.sendmail(sender, [user], raw)

    def flags(self, user="helpdesk"):
        """Every message's flags, by UID."""
        imap = imaplib.IMAP4("127.0.0.1", self.imap_port)
        try:
            imap.login(user, self.users[user])
            imap.select("INBOX", readonly=True)
            typ, data = imap.uid("FETCH", "1:*", "(UID FLAGS)")
            out = {}
            for line in data or []:
                if not line:
                    continue
                text = line.decode() if isinstance(line, bytes) else str(line)
                if "UID" in text:
                    uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
                    out[uid] = text.split("FLAGS (")[1].split(")")[0].split()
            return out
        finally:
            imap.logout()

    def filed(self, user="helpdesk"):
        """How many messages the server has flagged as filed."""
        return sum("$ProcedoFiled" in f for f in self.flags(user).values())
