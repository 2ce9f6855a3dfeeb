"""Reads of KYC data shared by the admin API and the back office."""

from django.db.models import F, QuerySet

from accounts.models import Label, User
from barong.db.counting import queryset_total
from kyc.models import Profile
from kyc.serializers import KYC_RELATIONS, UserWithKYCSerializer, UserWithProfileSerializer
from kyc.services import DOCUMENT_WAITING


def users_for_entity(queryset: QuerySet[User], serializer_class: type) -> QuerySet[User]:
    """Load what the entity shows in a constant number of queries, whatever the page size."""
    queryset = queryset.select_related("referral")
    if serializer_class is UserWithKYCSerializer:
        return queryset.prefetch_related(*KYC_RELATIONS)
    if serializer_class is UserWithProfileSerializer:
        return queryset.prefetch_related("profiles")
    return queryset


def users_with_pending_documents() -> QuerySet[User]:
    """Users awaiting a KYC decision, the oldest request first, with ``requested_at`` and
    ``document_label``.

    Read from the labels' partial index ``labels_document_waiting`` (``updated_at, user_id``
    where the label is a private ``document`` pending or replaced): the queue is walked in
    index order and joined to users by primary key, so a page costs the same with 25 or 25k
    users waiting. One label per user matches ((user, key, scope) is unique), so the join
    adds no duplicates.
    """
    return (
        User.objects.filter(
            labels__key="document",
            labels__scope=Label.Scope.PRIVATE,
            labels__value__in=DOCUMENT_WAITING,
        )
        .annotate(requested_at=F("labels__updated_at"), document_label=F("labels__value"))
        .order_by("requested_at", "id")
    )


def pending_document_user_ids() -> QuerySet:
    """The same users' ids in the same order, from ``labels_document_waiting`` alone.

    A page deep in the queue skips its earlier entries in the index without joining each to
    users (``labels.user_id`` is a non-null foreign key, so the join keeps every row).
    """
    return _waiting_labels().order_by("updated_at", "user_id").values_list("user_id", flat=True)


def document_queue() -> QuerySet[User]:
    """The back-office review queue: the same users, oldest request first."""
    return users_with_pending_documents()


def pending_documents_count() -> int:
    """Waiting document labels: exact when few, PostgreSQL's estimate when many."""
    return queryset_total(_waiting_labels())


def _waiting_labels() -> QuerySet[Label]:
    """The labels of ``labels_document_waiting``: a private ``document`` pending or replaced."""
    return Label.objects.filter(
        key="document", scope=Label.Scope.PRIVATE, value__in=DOCUMENT_WAITING
    )


def submitted_profiles_count() -> int:
    return queryset_total(Profile.objects.filter(state=Profile.State.SUBMITTED))
