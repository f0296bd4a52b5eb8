# mlps-scan host facts: ONE read-only POSIX sh script, sent over one SSH exec channel (or run locally).
# It changes nothing on the host. Each section starts with a marker line "@@MLPS@@ <name>"; the last line is
# "@@MLPS@@ end" (a missing end marker means the connection dropped mid-script). Password hashes never leave
# the host: /etc/shadow is reduced to flags by awk below.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH
LC_ALL=C; export LC_ALL
umask 077
s() { echo "@@MLPS@@ $1"; }
have() { command -v "$1" >/dev/null 2>&1; }
cfg() { # print the non-comment, non-empty lines of the files given, each prefixed with its path
  for f in "$@"; do [ -r "$f" ] && [ -f "$f" ] && sed -e 's/\r$//' -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' -e "s|^|$f: |" "$f"; done
  return 0
}
svc() { # "name state" for each service given, with ONE systemctl call
  if have systemctl; then
    { printf '%s\n' "$@"; echo @@; systemctl is-active "$@" 2>/dev/null; } |
      awk '/^@@$/ {m=1; next} !m {n[++c]=$0; next} {print n[++i], $0}'
  else
    for n in "$@"; do
      if [ -x "/etc/init.d/$n" ]; then if "/etc/init.d/$n" status >/dev/null 2>&1; then echo "$n active"; else echo "$n inactive"; fi; fi
    done
  fi
}

s meta
echo "uid=$(id -u 2>/dev/null)"
echo "hostname=$(hostname 2>/dev/null || cat /etc/hostname 2>/dev/null)"
echo "kernel=$(uname -r 2>/dev/null)"
echo "arch=$(uname -m 2>/dev/null)"

s os_release
cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null

s updates
# every listing prints "rc=<exit status>": a failed or missing listing is "patch state unknown", never "0 pending"
if have apt-get; then
  echo "manager=apt"
  out=$(apt-get -s -o Debug::NoLocking=1 upgrade 2>&1); echo "rc=$?"
  printf '%s\n' "$out" | grep '^E:' | head -n 1 | sed 's/^/error=/'
  echo "security=$(printf '%s\n' "$out" | grep '^Inst ' | grep -ci 'securi')"
  printf '%s\n' "$out" | grep '^Inst ' | grep -i 'securi' | awk '{print "pkg=" $2}' | head -n 50
elif have dnf; then
  echo "manager=dnf"
  out=$(dnf -q -C updateinfo list --security 2>/dev/null); echo "rc=$?"
  echo "security=$(printf '%s\n' "$out" | grep -c .)"
  printf '%s\n' "$out" | awk 'NF>=3 {print "pkg=" $3}' | head -n 50
elif have yum; then
  echo "manager=yum"
  out=$(yum -q -C updateinfo list security 2>/dev/null); echo "rc=$?"
  echo "security=$(printf '%s\n' "$out" | grep -c .)"
  printf '%s\n' "$out" | awk 'NF>=3 {print "pkg=" $3}' | head -n 50
elif have zypper; then
  echo "manager=zypper"
  # --no-refresh: read the local repository cache only (no network, no metadata written)
  out=$(zypper --non-interactive --no-refresh -q list-patches --category security 2>/dev/null); echo "rc=$?"
  echo "security=$(printf '%s\n' "$out" | grep -cE '\|[[:space:]]*security[[:space:]]*\|')"
  printf '%s\n' "$out" | grep -E '\|[[:space:]]*security[[:space:]]*\|' | awk -F'|' '{gsub(/ /, "", $2); print "pkg=" $2}' | head -n 50
else
  echo "manager=none"
fi

s sshd
out=""; if have sshd; then out=$(sshd -T 2>/dev/null) || out=""; fi
if [ -n "$out" ]; then
  echo "source=sshd-T"; printf '%s\n' "$out"
else
  echo "source=files"; cfg /etc/ssh/sshd_config /etc/ssh/sshd_config.d/*.conf
fi

s login_defs
cfg /etc/login.defs | grep -E ': *(PASS_MAX_DAYS|PASS_MIN_DAYS|PASS_MIN_LEN|PASS_WARN_AGE|LOGIN_RETRIES|ENCRYPT_METHOD|UMASK)[[:space:]]'

s pam
for f in /etc/pam.d/*; do cfg "$f"; done | grep -E 'pam_(pwquality|cracklib|passwdqc|faillock|tally2?|pwhistory|unix|google_authenticator|oath|u2f|duo|radius|sss)'
cfg /etc/security/pwquality.conf /etc/security/pwquality.conf.d/*.conf /etc/security/faillock.conf

s tmout
cfg /etc/profile /etc/profile.d/*.sh /etc/bashrc /etc/bash.bashrc /etc/environment | grep -E 'TMOUT'

s accounts
# name uid gid shell
awk -F: '{print "passwd " $1 " " $3 " " $4 " " $7}' /etc/passwd 2>/dev/null
# name status(empty|locked|set) algorithm lastchg min max warn inactive expire  -- never the hash itself
if [ -r /etc/shadow ]; then
  awk -F: '{
    p=$2; st="set"; alg="-";
    if (p == "") st="empty";
    else if (p ~ /^[!*]/) st="locked";
    if (st == "set") {
      if (p ~ /^\$1\$/) alg="md5"; else if (p ~ /^\$2[aby]?\$/) alg="bcrypt"; else if (p ~ /^\$5\$/) alg="sha256";
      else if (p ~ /^\$6\$/) alg="sha512"; else if (p ~ /^\$y\$/) alg="yescrypt"; else if (p ~ /^\$gy\$/) alg="gost-yescrypt";
      else if (p ~ /^\$7\$/) alg="scrypt"; else if (length(p) == 13) alg="des"; else alg="other";
    }
    printf "shadow %s %s %s %s %s %s %s %s %s\n", $1, st, alg, ($3==""?"-":$3), ($4==""?"-":$4), ($5==""?"-":$5), ($6==""?"-":$6), ($7==""?"-":$7), ($8==""?"-":$8)
  }' /etc/shadow
else
  echo "shadow-unreadable"
fi
awk -F: '$1 ~ /^(root|wheel|sudo|admin|adm)$/ {print "group " $1 " " $3 " " $4}' /etc/group 2>/dev/null
echo "today=$(( $(date +%s) / 86400 ))"

s sudoers
cfg /etc/sudoers /etc/sudoers.d/*

s audit
svc auditd
if have auditctl; then
  # without privilege auditctl prints "You must be root to run this program." (exit 4): the exit status is
  # recorded so that message is never read as a rule
  out=$(auditctl -s 2>&1); echo "status_rc=$?"; printf '%s\n' "$out" | sed 's/^/status: /'
  out=$(auditctl -l 2>&1); echo "rules_rc=$?"; printf '%s\n' "$out" | sed 's/^/rule: /'
else
  echo "auditctl=missing"
  cfg /etc/audit/audit.rules /etc/audit/rules.d/*.rules | sed 's/^/file-rule: /'
fi
cfg /etc/audit/auditd.conf | grep -E ': *(max_log_file|num_logs|max_log_file_action|space_left_action|log_file)[[:space:]]*='
cfg /etc/audisp/plugins.d/au-remote.conf /etc/audit/plugins.d/au-remote.conf /etc/audisp/audisp-remote.conf /etc/audit/audisp-remote.conf | grep -E ': *(active|remote_server)'

s logging
svc rsyslog syslog-ng systemd-journald systemd-journal-upload
cfg /etc/rsyslog.conf /etc/rsyslog.d/*.conf | grep -E '@|omfwd|omrelp|target='
cfg /etc/syslog-ng/syslog-ng.conf /etc/syslog-ng/conf.d/*.conf | grep -E 'destination|network\(|tcp\(|udp\('
cfg /etc/systemd/journald.conf /etc/systemd/journald.conf.d/*.conf | grep -E 'Storage|MaxRetentionSec|MaxFileSec|ForwardToSyslog|SystemMaxUse'
cfg /etc/systemd/journal-upload.conf | grep -E 'URL'
cfg /etc/logrotate.conf | grep -E ': *(daily|weekly|monthly|yearly|rotate|maxage)([[:space:]]|$)' | sed 's/^/logrotate-global /'
for f in /etc/logrotate.d/rsyslog /etc/logrotate.d/syslog /etc/logrotate.d/syslog-ng /etc/logrotate.d/audit; do
  cfg "$f" | grep -E ': *(daily|weekly|monthly|yearly|rotate|maxage)([[:space:]]|$)' | sed 's/^/logrotate-syslog /'
done

s auth_logging
# where authentication messages (sshd logins, sudo) are written: selectors naming auth/authpriv, journald storage
cfg /etc/rsyslog.conf /etc/rsyslog.d/*.conf | grep -E 'auth'
cfg /etc/syslog-ng/syslog-ng.conf /etc/syslog-ng/conf.d/*.conf | grep -E 'facility\((auth|authpriv)'
cfg /etc/systemd/journald.conf /etc/systemd/journald.conf.d/*.conf | grep -E 'Storage'
if [ -d /var/log/journal ]; then echo "journal_dir=present"; fi

s time_sync
svc chronyd chrony ntpd ntp ntpsec systemd-timesyncd
if have timedatectl; then timedatectl show 2>/dev/null | grep -E '^(NTP|NTPSynchronized|Timezone)='; fi
if have chronyc; then chronyc -n tracking 2>/dev/null | grep -E 'Reference ID|Leap status' | sed 's/^/chrony: /'; fi
cfg /etc/chrony.conf /etc/chrony/chrony.conf /etc/chrony/sources.d/*.sources /etc/ntp.conf /etc/ntpsec/ntp.conf /etc/systemd/timesyncd.conf | grep -E ': *(server|pool|NTP=|FallbackNTP=)'

s firewall
svc firewalld nftables ufw iptables
if have nft; then nft list ruleset 2>/dev/null | grep -E 'chain |policy |type filter' | head -n 60 | sed 's/^/nft: /'; echo "nft_rules=$(nft list ruleset 2>/dev/null | grep -cE '(accept|drop|reject)')"; fi
if have iptables; then iptables -S 2>/dev/null | head -n 200 | sed 's/^/iptables: /'; fi
if have firewall-cmd; then echo "firewalld_state=$(firewall-cmd --state 2>&1 | head -n1)"; fi
if have ufw; then ufw status 2>/dev/null | head -n 1 | sed 's/^/ufw: /'; fi

s fw_state
# stateful rules (connection tracking) in the loaded rule sets, as counts
if have nft; then echo "nft_ct_state=$(nft list ruleset 2>/dev/null | grep -c 'ct state')"; fi
if have iptables; then echo "iptables_state=$(iptables -S 2>/dev/null | grep -cE -- '--(ct)?state')"; fi

s perms
# owner, group and mode of the files that hold access-control policy (who may change them)
for f in /etc/passwd /etc/shadow /etc/group /etc/gshadow /etc/sudoers /etc/sudoers.d /etc/sudoers.d/* \
         /etc/ssh/sshd_config /etc/pam.d /etc/pam.d/* /etc/security/access.conf /etc/security/pwquality.conf \
         /etc/security/faillock.conf /etc/login.defs /etc/audit/auditd.conf /etc/audit/audit.rules /etc/audit/rules.d; do
  [ -e "$f" ] && stat -c '%n %U %G %a' "$f" 2>/dev/null
done

s mac
if have getenforce; then echo "selinux=$(getenforce 2>/dev/null)"; fi
cfg /etc/selinux/config | grep -E ': *SELINUX='
if [ -r /sys/module/apparmor/parameters/enabled ]; then echo "apparmor=$(cat /sys/module/apparmor/parameters/enabled)"; fi
if have aa-status; then aa-status 2>/dev/null | grep -E 'profiles are in enforce mode|apparmor module is loaded' | sed 's/^/aa: /'; fi

s malware
for c in clamd clamscan freshclam falcon-sensor wazuh-agentd ossec-agentd mdatp sophos-av savscan esets_daemon rkhunter aide; do have "$c" && echo "cmd=$c"; done
for d in /opt/CrowdStrike /var/ossec /opt/sophos-spl /opt/microsoft/mdatp /opt/eset /usr/local/qaxsafe /opt/huorong /usr/local/aegis; do [ -d "$d" ] && echo "dir=$d"; done
svc clamav-daemon clamd clamav-freshclam wazuh-agent falcon-sensor mdatp aegis
for f in /var/lib/clamav/daily.cld /var/lib/clamav/daily.cvd; do [ -f "$f" ] && echo "signatures=$f $(date -r "$f" +%s 2>/dev/null || stat -c %Y "$f")"; done
echo "now=$(date +%s)"

s disk
cfg /etc/crypttab | sed 's/^/crypttab: /'
if have lsblk; then lsblk -rno NAME,TYPE,FSTYPE,MOUNTPOINT 2>/dev/null | sed 's/^/lsblk: /'; fi
if have dmsetup; then dmsetup ls --target crypt 2>/dev/null | sed 's/^/dm-crypt: /'; fi
awk '$2=="/" || $2 ~ /^\/(home|var|srv|data)/ {print "mount: " $1 " " $2 " " $3}' /proc/mounts 2>/dev/null | head -n 20

s listening
if have ss; then ss -Hltnu 2>/dev/null | awk '{print $1, $5}'
elif have netstat; then netstat -ltnu 2>/dev/null | awk '$1 ~ /^(tcp|udp)/ {print $1, $4}'
fi

s services
if have systemctl; then systemctl list-units --type=service --state=running --no-legend --no-pager 2>/dev/null | awk '{print $1}' | head -n 300; fi

s end
