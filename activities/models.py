"""The append-only activity log: user actions and admin audit rows."""

from django.db import models


class Activity(models.Model):
    """One recorded action; ``category`` says whether a user or an operator acted."""

    class Category(models.TextChoices):
        USER = "user"
        ADMIN = "admin"

    class Result(models.TextChoices):
        SUCCEED = "succeed"
        FAILED = "failed"
        DENIED = "denied"

    # No index of its own: activities_user_time (user, created_at, id) starts with it.
    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="activities", db_index=False
    )
    target_uid = models.CharField(max_length=32, null=True, blank=True)
    category = models.CharField(max_length=16, choices=Category.choices)
    user_ip = models.CharField(max_length=64)
    user_agent = models.CharField(max_length=255)
    topic = models.CharField(max_length=255)
    action = models.CharField(max_length=255)
    result = models.CharField(max_length=16, choices=Result.choices)
    data = models.TextField(null=True, blank=True)
    # The X-Request-ID of the request that wrote the row (barong/request_id.py), if any.
    request_id = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Append-only, newest rows at the end: list totals count in the list's order
    # (barong/db/counting.py).
    COUNT_IN_ORDER = True

    class Meta:
        db_table = "activities"
        # Every list is newest first (``created_at DESC, id DESC``): each index ends with
        # those two columns, so a page is read from an index in order, however deep.
        indexes = [
            models.Index(fields=["created_at", "id"], name="activities_time"),
            models.Index(fields=["category", "created_at", "id"], name="activities_category_time"),
            models.Index(
                fields=["category", "topic", "created_at", "id"], name="activities_topic_time"
            ),
            models.Index(fields=["user", "created_at", "id"], name="activities_user_time"),
            models.Index(fields=["target_uid", "created_at", "id"], name="activities_target_time"),
            # The daily metrics (activities/rollup.py).
            models.Index(fields=["topic", "action", "result", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.category}:{self.topic}/{self.action}/{self.result}"


class DailyMetric(models.Model):
    """One UTC day's count of one metric series (sign-ups, logins…), written by the roll-up.

    A day has a row for every series once it is rolled up, zero counts included, so the
    newest rolled-up day tells where live counting starts (activities/rollup.py).
    """

    day = models.DateField()
    series = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)

    class Meta:
        db_table = "daily_metrics"
        constraints = [
            models.UniqueConstraint(fields=["series", "day"], name="daily_metrics_series_day")
        ]
        indexes = [models.Index(fields=["day"], name="daily_metrics_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.series}: {self.count}"
