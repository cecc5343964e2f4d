"""The dialer workers' heartbeat: each `run_dialer` says, once a second, that it is alive and
which servers' ARI event streams it has. Read by the campaign's dialer page to say why calls
are not going out ("no dialer worker is running", "server lab-b: no worker has its events"),
which a supervisor cannot see any other way."""

from __future__ import annotations

from django.db import models


class DialerWorker(models.Model):
    # hostname:pid, as the attempts' `worker` column names it.
    name = models.CharField(max_length=64, unique=True)
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)
    # {server id (str, as JSON keys are): True while its event stream is connected}
    servers_up = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return self.name

    def server_up(self, server_id: int) -> bool:
        return bool(self.servers_up.get(str(server_id)))
