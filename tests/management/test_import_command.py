"""``import_barong_users``: a Barong export of 1,000 users moved over, passwords kept."""

import csv
import io
import json
from http import HTTPStatus

import bcrypt
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Label, User
from kyc.models import Phone, Profile

PASSWORD = "Old-Barong-Pass-1"
# Ruby's bcrypt writes $2a$; cost 4 keeps the test fast (Barong used 12).
DIGEST = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode().replace("$2b$", "$2a$")
USER_COLUMNS = [
    "id",
    "uid",
    "email",
    "password_digest",
    "role",
    "state",
    "otp",
    "data",
    "referral_id",
    "level",
    "created_at",
]


def _csv(path, columns, rows):
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def export(tmp_path):
    """users.csv (1,000 rows) and the labels, profiles and phones tables of a few of them."""
    users = [
        {
            "id": str(n),
            "uid": f"ID{n:010X}",
            "email": f"user{n}@example.com",
            "password_digest": DIGEST,
            "role": "member",
            "state": "active",
            "otp": "0",
            "data": "",
            "referral_id": "",
            "level": "1",
            "created_at": "2020-01-01 00:00:00",
        }
        for n in range(1, 1001)
    ]
    users[0]["referral_id"] = "1000"  # a referrer later in the file
    users[1].update(state="banned")
    users[2].update(otp="1")
    users[3].update(email="USER5@example.com")  # the same e-mail as user 5, another case
    users[5].update(password_digest="not-a-digest")
    users[6].update(role="no-such-role")
    users[7].update(data='{"language":"fr"}')
    labels = [
        {
            "user_id": str(n),
            "key": "email",
            "value": "verified",
            "scope": "private",
            "description": "",
        }
        for n in range(1, 21)
    ]  # labels are the costly part
    labels.append(
        {"user_id": "9", "key": "phone", "value": "verified", "scope": "private", "description": ""}
    )
    labels.append(
        {"user_id": "9", "key": "x", "value": "bad", "scope": "public", "description": ""}
    )
    profiles = [
        {
            "user_id": "9",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "dob": "1990-12-10",
            "address": "",
            "postcode": "",
            "city": "London",
            "country": "GB",
            "state": "verified",
            "metadata": "",
        }
    ]
    phones = [
        {
            "user_id": "9",
            "country": "GB",
            "number": "447418084106",
            "validated_at": "2020-02-02 10:00:00",
        }
    ]
    return {
        "users": _csv(tmp_path / "users.csv", USER_COLUMNS, users),
        "labels": _csv(tmp_path / "labels.csv", list(labels[0]), labels),
        "profiles": _csv(tmp_path / "profiles.csv", list(profiles[0]), profiles),
        "phones": _csv(tmp_path / "phones.csv", list(phones[0]), phones),
    }


def _run(export):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_barong_users",
        str(export["users"]),
        labels=str(export["labels"]),
        profiles=str(export["profiles"]),
        phones=str(export["phones"]),
        batch_size=250,
        stdout=out,
        stderr=err,
    )
    return out.getvalue(), err.getvalue()


def test_import_1000_users_then_log_in_with_the_old_password(db, export, api, settings):
    out, err = _run(export)
    assert "imported: 997" in out
    assert "refused: 3" in out  # duplicate e-mail, bad digest, unknown role
    assert "referrals linked: 1" in out
    assert "users enable it again): 1\n" in out
    assert "1000/1000" in err  # the progress bar reached the end
    assert User.objects.count() == 997

    first = User.objects.get(uid="ID0000000001")
    assert first.referral.uid == f"ID{1000:010X}"
    assert first.state == "active"
    assert first.level == 1
    assert User.objects.get(uid="ID0000000002").state == "banned"
    assert not User.objects.get(uid="ID0000000003").otp
    assert User.objects.get(uid="ID0000000008").data == '{"language":"fr"}'
    ninth = User.objects.get(uid="ID0000000009")
    assert ninth.level == 2
    assert Profile.objects.get(user=ninth).state == "verified"
    assert Phone.objects.get(user=ninth).validated_at is not None
    assert not Label.objects.filter(user=ninth, key="x").exists()
    assert "label x" in out

    again, _ = _run(export)  # idempotent: nothing new, nothing broken
    assert "imported: 0" in again
    assert "already present (skipped): 997" in again
    assert User.objects.count() == 997

    settings.PASSWORD_HASHERS = [
        "accounts.hashers.BarongArgon2Hasher",
        "accounts.hashers.BarongBcryptHasher",
    ]
    for n in (1, 500, 999):
        email = f"user{n}@example.com"
        wrong = api.post("/api/v2/identity/sessions", {"email": email, "password": "nope-nope"})
        assert wrong.status_code == HTTPStatus.UNAUTHORIZED
        response = api.post("/api/v2/identity/sessions", {"email": email, "password": PASSWORD})
        assert response.status_code == HTTPStatus.OK, response.content
        user = User.objects.get(email=email)
        assert user.password.startswith("argon2$argon2id$")
        assert user.check_password(PASSWORD)
    untouched = User.objects.get(uid="ID0000000064")
    assert untouched.password.startswith("barong_bcrypt$$2a$04$")


def test_import_json_export(db, tmp_path):
    path = tmp_path / "users.json"
    path.write_text(
        json.dumps(
            {
                "users": [
                    {
                        "uid": "ID00000000AA",
                        "email": "json@example.com",
                        "password_digest": DIGEST,
                        "state": "locked",
                        "referral_uid": "ID00000000BB",
                        "labels": [{"key": "email", "value": "verified", "scope": "private"}],
                        "phones": [{"number": "+12025550123", "validated_at": None}],
                    },
                    {"uid": "ID00000000BB", "email": "ref@example.com", "password_digest": DIGEST},
                ]
            }
        )
    )
    out = io.StringIO()
    call_command("import_barong_users", str(path), no_progress=True, stdout=out)
    assert "imported: 2" in out.getvalue()
    user = User.objects.get(uid="ID00000000AA")
    assert user.state == "locked"
    assert user.referral.uid == "ID00000000BB"
    assert Phone.objects.get(user=user).validated_at is None


def test_states_no_label_gives_are_kept_as_manual_through_a_level_edit(
    db, tmp_path, django_capture_on_commit_callbacks
):
    """Barong's operators set states by hand: each state the labels do not give is kept,
    flagged manual, and a later level edit changes levels only."""
    from accounts.services import level_admin_save
    from tests.factories import make_admin_user

    verified = [{"key": "email", "value": "verified", "scope": "private"}]
    phone = [*verified, {"key": "phone", "value": "verified", "scope": "private"}]
    rows = {
        "ID000000ACT1": ("active", []),  # activated by hand: labels would say pending
        "ID000000PEN1": ("pending", verified),  # held back by hand: labels would say active
        "ID000000FRZ1": ("frozen", phone),  # a state of Barong's configurable triggers
        "ID000000BAN1": ("banned", phone),  # gets the ban label that gives it
        "ID000000ACT2": ("active", phone),  # the labels give it
        "ID000000BAD1": ("Frozen Solid", verified),  # no state this server could keep
    }
    path = tmp_path / "users.json"
    path.write_text(
        json.dumps(
            [
                {"uid": uid, "email": f"{uid.lower()}@example.com", "password_digest": DIGEST,
                 "state": state, "labels": labels}
                for uid, (state, labels) in rows.items()
            ]
        )
    )  # fmt: skip
    out = io.StringIO()

    call_command("import_barong_users", str(path), no_progress=True, stdout=out)

    assert "imported: 5" in out.getvalue()
    assert "refused ID000000BAD1: State is invalid" in out.getvalue()
    assert "states kept as set by hand (no label gives them): 3" in out.getvalue()
    imported = {uid: rows[uid][0] for uid in rows if uid != "ID000000BAD1"}
    manual = {"ID000000ACT1", "ID000000PEN1", "ID000000FRZ1"}
    stored = User.objects.filter(uid__in=imported).values_list("uid", "state", "state_manual")
    assert {uid: (st, flag) for uid, st, flag in stored} == {
        uid: (state, uid in manual) for uid, state in imported.items()
    }
    assert Label.objects.filter(user__uid="ID000000BAN1", key="ban", value="imported").exists()

    with django_capture_on_commit_callbacks(execute=True):
        level_admin_save(admin=make_admin_user(), id=2, key="phone", value="x1", description="d")

    after = dict(User.objects.filter(uid__in=imported).values_list("uid", "state"))
    assert after == imported
    assert User.objects.get(uid="ID000000ACT2").level == 1  # the level moved, not the state


def test_an_import_rolls_the_metrics_up(db, tmp_path, make_user):
    """Barong's activity history loaded beside the import: /admin/metrics reads the roll-up
    at once, not after the first hourly run."""
    from datetime import UTC, timedelta

    from django.utils import timezone

    from activities.models import Activity
    from activities.rollup import rollup_watermark

    row = Activity.objects.create(
        user=make_user(), category="user", user_ip="1.2.3.4", user_agent="test",
        topic="account", action="signup", result="succeed",
    )  # fmt: skip
    now = timezone.now()
    Activity.objects.filter(pk=row.pk).update(created_at=now - timedelta(days=5))
    path = tmp_path / "users.json"
    path.write_text(json.dumps([{"uid": "ID00000000CC", "email": "c@example.com",
                                 "password_digest": DIGEST}]))  # fmt: skip
    out = io.StringIO()

    call_command("import_barong_users", str(path), no_progress=True, stdout=out)

    assert rollup_watermark() == now.astimezone(UTC).date() - timedelta(days=1)
    assert "metrics: 5 days rolled up" in out.getvalue()


@pytest.mark.parametrize(
    "content",
    ["{not json", json.dumps({"users": "x"}), json.dumps([{"email": "no-uid@example.com"}])],
)
def test_unreadable_export_is_a_command_error(db, tmp_path, content):
    path = tmp_path / "users.json"
    path.write_text(content)
    with pytest.raises(CommandError):
        call_command("import_barong_users", str(path), no_progress=True)
    assert User.objects.count() == 0


def test_missing_file_is_a_command_error(db, tmp_path):
    with pytest.raises(CommandError):
        call_command("import_barong_users", str(tmp_path / "absent.csv"), no_progress=True)
