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

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="activities")
    target_uid = models.CharField(max_length=32, null=True, blank=True, db_index=True)
    category = models.CharField(max_length=16, choices=Category.choices)
    user_ip = models.CharField(max_length=64)
    user_agent = models.CharField(max_length=255)
    topic = models.CharField(max_length=255)
    action = models.CharField(max_length=255)
    result = models.CharField(max_length=16, choices=Result.choices)
    data = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "activities"
        indexes = [
            models.Index(fields=["category", "created_at"]),
            models.Index(fields=["user", "topic", "id"]),
            models.Index(fields=["topic", "action", "result", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.category}:{self.topic}/{self.action}/{self.result}"
