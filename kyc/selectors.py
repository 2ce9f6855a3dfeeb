"""Reads of KYC data shared by the admin API and the back office."""

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from accounts.models import Label, User
from kyc.models import Profile
from kyc.serializers import UserWithKYCSerializer, UserWithProfileSerializer
from kyc.services import DOCUMENT_WAITING

KYC_RELATIONS = ("profiles", "labels", "phones", "documents", "data_storages")


def users_for_entity(queryset: QuerySet[User], serializer_class: type) -> QuerySet[User]:
    """Load what the entity shows in a constant number of queries, whatever the page size."""
    queryset = queryset.select_related("referral")
    if serializer_class is UserWithKYCSerializer:
        return queryset.prefetch_related(*KYC_RELATIONS)
    if serializer_class is UserWithProfileSerializer:
        return queryset.prefetch_related("profiles")
    return queryset


def users_with_pending_documents() -> QuerySet[User]:
    """Users awaiting a KYC decision, the oldest request first."""
    documents = Label.objects.filter(user=OuterRef("pk"), key="document", scope=Label.Scope.PRIVATE)
    return (
        User.objects.filter(Exists(documents.filter(value__in=DOCUMENT_WAITING)))
        .annotate(document_at=Subquery(documents.values("updated_at")[:1]))
        .order_by("document_at", "id")
    )


def document_queue() -> QuerySet[User]:
    """Users whose private ``document`` label is pending or replaced, oldest request first."""
    requested = Label.objects.filter(
        user=OuterRef("pk"),
        key="document",
        scope=Label.Scope.PRIVATE,
        value__in=DOCUMENT_WAITING,
    )
    return (
        User.objects.annotate(
            requested_at=Subquery(requested.values("updated_at")[:1]),
            document_label=Subquery(requested.values("value")[:1]),
        )
        .filter(requested_at__isnull=False)
        .order_by("requested_at", "id")
    )


def pending_documents_count() -> int:
    return Label.objects.filter(
        key="document", scope=Label.Scope.PRIVATE, value__in=DOCUMENT_WAITING
    ).count()


def submitted_profiles_count() -> int:
    return Profile.objects.filter(state=Profile.State.SUBMITTED).count()
