from django.contrib import admin

from features.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "text", "created_at")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
