"""The user page's security section: live sessions and passkeys, each removable.

A mixin of ``accounts.admin.UserAdmin``. Ending and removing go through the services the
admin API uses (``session_admin_end``, ``sessions_admin_end_all``,
``webauthn_credentials_admin_delete``): the same guards, the same audit rows. The buttons
submit the change form (and its CSRF token) to the views below; a GET changes nothing.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from accounts.models import User, WebAuthnCredential
from accounts.services.passkeys import (
    CREDENTIAL_ID_MAX,
    credential_id_short,
    webauthn_credentials_admin_delete,
)
from accounts.services.sessions import session_admin_end, sessions_admin_end_all
from accounts.sessions import user_sessions_list
from barong.api.errors import ApiError


def users_action(description: str, done_message: str, service, **arguments):
    """A change-list action of ``UserAdmin``: ``service`` (the one the admin API calls) for
    each selected user, as the operator; ``UserAdmin._each`` reports refusals per user."""

    @admin.action(description=description, permissions=["change"])
    def action(self, request, queryset):
        self._each(
            request,
            queryset,
            done_message,
            lambda user: service(admin=request.user, user=user, request=request, **arguments),
        )

    return action


class UserSecurityAdminMixin:
    """Sessions and passkeys on the user page; ``_each`` comes from ``UserAdmin``."""

    @admin.display(description="Live sessions")
    def live_sessions(self, obj: User):
        rows = user_sessions_list(obj.uid)
        if not rows:
            return "—"
        # The buttons submit the change form (and its CSRF token) to session_end_view.
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li>{} · {} · last seen {} <button type="submit" formaction="{}"'
                ' class="button">End</button></li>',
                (
                    (
                        row["user_ip"],
                        row["user_agent"],
                        row["last_seen_at"],
                        reverse("admin:accounts_user_session_end", args=[obj.pk, row["id"]]),
                    )
                    for row in rows
                ),
            ),
        )

    @admin.display(description="Passkeys")
    def passkeys(self, obj: User):
        # One query, of the shown columns only: the public key is never read.
        rows = (
            WebAuthnCredential.objects.filter(user_id=obj.pk)
            .order_by("-created_at", "-id")
            .values("name", "credential_id", "created_at", "last_used_at", "sign_count")
        )
        if not rows:
            return "—"
        return format_html(
            "<table><thead><tr><th>Name</th><th>Credential</th><th>Created</th>"
            "<th>Last used</th><th>Sign count</th><th></th></tr></thead><tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td>"
                '<td><button type="submit" formaction="{}" class="button">Remove</button>'
                "</td></tr>",
                (
                    (
                        row["name"] or "—",
                        credential_id_short(row["credential_id"]),
                        row["created_at"],
                        row["last_used_at"] or "never",
                        row["sign_count"],
                        reverse(
                            "admin:accounts_user_passkey_remove",
                            args=[obj.pk, row["credential_id"]],
                        ),
                    )
                    for row in rows
                ),
            ),
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/sessions/<str:session_id>/end/",
                self.admin_site.admin_view(self.session_end_view),
                name="accounts_user_session_end",
            ),
            path(
                "<int:pk>/passkeys/<str:credential_id>/remove/",
                self.admin_site.admin_view(self.passkey_remove_view),
                name="accounts_user_passkey_remove",
            ),
            *super().get_urls(),
        ]

    def _user_post(self, request, pk: int, work, done: str, failed: str):
        """A POST button on the user page: ``work(user)`` (a service call), its outcome as a
        message, back to the user page; a GET only goes back."""
        back = HttpResponseRedirect(reverse("admin:accounts_user_change", args=[pk]))
        if request.method != "POST":
            return back
        user = get_object_or_404(User, pk=pk)
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        try:
            work(user)
        except ApiError as exc:
            self.message_user(request, f"{failed} ({', '.join(exc.keys)})", messages.ERROR)
        else:
            self.message_user(request, done.format(email=user.email), messages.SUCCESS)
        return back

    def session_end_view(self, request, pk: int, session_id: str):
        """POST: end one session of the user, through the service the admin API uses."""
        return self._user_post(
            request,
            pk,
            lambda user: session_admin_end(
                admin=request.user, user=user, session_id=session_id[:64], request=request
            ),
            "A session of {email} ended.",
            "Session not ended",
        )

    def passkey_remove_view(self, request, pk: int, credential_id: str):
        """POST: remove one passkey of the user, through the service the admin API uses."""
        return self._user_post(
            request,
            pk,
            lambda user: webauthn_credentials_admin_delete(
                admin=request.user,
                user=user,
                credential_id=credential_id[:CREDENTIAL_ID_MAX],
                request=request,
            ),
            "A passkey of {email} removed.",
            "Passkey not removed",
        )

    end_sessions = users_action(
        "End all sessions of selected users",
        "Sessions ended for {count} user(s).",
        sessions_admin_end_all,
    )
    remove_passkeys = users_action(
        "Remove all passkeys of selected users",
        "Passkeys removed for {count} user(s).",
        webauthn_credentials_admin_delete,
    )
