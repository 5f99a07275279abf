"""``manage.py create_curator``: a staff account for the admin, without prompts."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

PASSWORD_VARIABLE = "EMG_CURATOR_PASSWORD"
CURATORS_GROUP = "curators"
#: What curators may do: view everything, change what curation needs.
CURATOR_PERMISSIONS = {
    "analyses": {
        "view": ["biome", "study", "sample", "run", "assembly", "analysis"],
        "change": ["study", "sample", "run", "analysis"],
        "add": ["biome"],
    },
    "ena": {"view": ["study", "sample"], "change": ["study"]},
}


def curators_group() -> Group:
    """The ``curators`` group with its permissions (created or brought up to date)."""
    group, _ = Group.objects.get_or_create(name=CURATORS_GROUP)
    permissions = [
        Permission.objects.get(content_type__app_label=app, codename=f"{action}_{model}")
        for app, actions in CURATOR_PERMISSIONS.items()
        for action, models in actions.items()
        for model in models
    ]
    group.permissions.set(permissions)
    return group


class Command(BaseCommand):
    help = (
        "Create (or update) a curator: a staff account in the 'curators' group. "
        f"The password is read from ${PASSWORD_VARIABLE}, never from the command line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--superuser", action="store_true", help="Full admin rights.")

    def handle(
        self, *args: Any, username: str, email: str, superuser: bool, **options: Any
    ) -> None:
        password = os.environ.get(PASSWORD_VARIABLE)
        if not password:
            raise CommandError(f"set ${PASSWORD_VARIABLE} to the new curator's password")
        User = get_user_model()
        with transaction.atomic():
            user, created = User.objects.get_or_create(username=username, defaults={"email": email})
            user.is_staff = True
            user.is_superuser = user.is_superuser or superuser
            if email:
                user.email = email
            user.set_password(password)
            user.save()
            user.groups.add(curators_group())
        self.stdout.write(f"{'created' if created else 'updated'} curator {username!r}")
