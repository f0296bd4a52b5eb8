"""~/.ssh/config, read as `ssh` reads it (paramiko's parser): the settings of a host known by several names,
and HostName aliases."""
from __future__ import annotations

import threading
from pathlib import Path

_SSH_CONFIG_LOCK = threading.Lock()


def ssh_config(host: str) -> dict:
    """~/.ssh/config's settings for `host` (as `ssh host` would read them), {} without a readable file."""
    import paramiko
    path = Path("~/.ssh/config").expanduser()
    if not path.is_file():
        return {}
    with _SSH_CONFIG_LOCK:
        try:
            return dict(paramiko.SSHConfig.from_path(str(path)).lookup(host))
        except Exception:  # noqa: BLE001 - an unreadable ssh config falls back to scan.yaml settings
            return {}


def ssh_settings(hosts: list[str]) -> dict:
    """~/.ssh/config settings for a host known by several names: the blocks that name the first name win
    (as `ssh NAME`), then those naming later names and the address (a config keyed by addresses), and the
    catch-all `Host *` values come last, so they never override a block written for the host."""
    catch_all = ssh_config("mlps-scan-no-such-host.invalid")  # what only the catch-all blocks give
    out: dict = {}
    for host in hosts:
        for key, value in ssh_config(host).items():
            if key != "hostname" and catch_all.get(key) != value:
                out.setdefault(key, value)
    for key, value in catch_all.items():
        if key != "hostname":
            out.setdefault(key, value)
    return out
