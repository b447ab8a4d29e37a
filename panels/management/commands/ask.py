"""Ask a panel from the command line:

    python manage.py ask --tenant acme --type delphi "Should we ...?"          # through the worker
    python manage.py ask --tenant acme --type open --inline "Should we ...?"   # in this process
"""

import sys
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from config.errors import DomainError
from panels.lifecycle import FINAL
from panels.models import Panel
from panels.reports import report_markdown
from panels.selectors import panel_events
from panels.services import panel_create
from panels.types import REGISTRY
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Ask a panel of experts a question in a tenant and print the report."

    def add_arguments(self, parser):
        parser.add_argument("question")
        parser.add_argument("--tenant", required=True, help="the tenant's schema name, e.g. acme")
        parser.add_argument("--type", dest="panel_type", default="structured", choices=list(REGISTRY))
        parser.add_argument("--experts", default="", help="comma-separated agent slugs (default: ranked for you)")
        parser.add_argument("--rounds", type=int, default=None)
        parser.add_argument("--user", default="", help="the tenant user who asks (default: its first admin)")
        parser.add_argument("--inline", action="store_true", help="run here instead of in the worker")
        parser.add_argument("--timeout", type=int, default=1800, help="seconds to wait for the worker")

    def handle(self, *args, **options):
        tenant = Tenant.objects.exclude(schema_name="public").filter(schema_name=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"There is no tenant {options['tenant']!r}.")
        with schema_context(tenant.schema_name):
            users = get_user_model().objects.filter(is_active=True)
            user = users.filter(username=options["user"]).first() if options["user"] else \
                users.filter(is_staff=True).order_by("id").first()
            if user is None:
                raise CommandError(f"No such user in {tenant.schema_name}; pass --user <username>.")
            experts = [s.strip() for s in options["experts"].split(",") if s.strip()] or None
            try:
                panel = panel_create(user=user, query=options["question"], panel_type=options["panel_type"],
                                     experts=experts, max_rounds=options["rounds"], enqueue=not options["inline"])
            except DomainError as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(f"Panel {panel.pk} ({panel.panel_type}) with "
                              + ", ".join(m.display_name for m in panel.members.select_related("agent")))
            if options["inline"]:
                from panels.orchestration.runner import panel_run

                panel_run(panel_id=panel.pk)
                self._progress(panel, wait=False)
            else:
                self._progress(panel, wait=True, timeout=options["timeout"])
            panel = Panel.objects.get(pk=panel.pk)
            self.stdout.write("")
            self.stdout.write(report_markdown(panel))
            if panel.status != "COMPLETED":
                raise CommandError(f"The panel ended {panel.status.lower()}: {panel.error or 'see the report'}")

    def _progress(self, panel, *, wait: bool, timeout: int = 0) -> None:
        """A progress bar per round, drawn from the panel's events."""
        after, deadline, bar_open = 0, time.monotonic() + timeout, False
        while True:
            for event in panel_events(panel=panel, after=after):
                after = event.id
                data = event.data
                if event.kind == "round_started":
                    self.stdout.write(f"\nRound {data['round']}/{data['of']} {data['title']}: ", ending="")
                    bar_open = True
                elif event.kind == "contribution" and bar_open:
                    self.stdout.write("#", ending="")
                elif event.kind == "round_completed":
                    self.stdout.write(f" done ({data['summary'].get('contributions', 0)} contributions)", ending="")
                elif event.kind == "status":
                    self.stdout.write(f"\n[{data['status']}]" + (f" {data['reason']}" if data.get("reason") else ""),
                                      ending="")
                sys.stdout.flush()
            panel.refresh_from_db(fields=["status"])
            if not wait or panel.status in FINAL or panel.status == "AWAITING_INPUT":
                self.stdout.write("")
                return
            if time.monotonic() > deadline:
                raise CommandError(f"Panel {panel.pk} did not finish in {timeout}s; is a worker running (make run)?")
            time.sleep(0.5)
