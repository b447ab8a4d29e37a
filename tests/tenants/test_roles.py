"""Roles inside a tenant are decided in one place (tenants/roles.py): app code never reads
`is_staff` to allow or refuse anything by itself."""

import re
from pathlib import Path

from tenants.roles import can_manage, is_tenant_admin, role_of

ROOT = Path(__file__).resolve().parents[2]
APPS = ("config", "tenants", "llm", "agents", "rag", "panels")
# Where `is_staff` may appear: the roles module, and the services that give users a role.
ALLOWED = {"tenants/roles.py", "tenants/services.py"}


def test_no_app_module_decides_on_is_staff_itself():
    offenders = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative in ALLOWED:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if re.search(r"\.is_staff\b", line):
                    offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == [], "use tenants.roles (is_tenant_admin, can_manage, require_admin):\n" + "\n".join(offenders)


class User:
    is_authenticated = True

    def __init__(self, pk, is_staff):
        self.pk, self.is_staff = pk, is_staff


def test_admins_manage_everything_members_what_they_created():
    admin, member = User(1, True), User(2, False)
    assert role_of(admin) == "admin" and role_of(member) == "member"
    assert can_manage(admin, owner_id=2) and can_manage(member, owner_id=2)
    assert not can_manage(member, owner_id=1) and not can_manage(member, owner_id=None)
    assert not is_tenant_admin(type("Anonymous", (), {"is_authenticated": False, "is_staff": True})())
