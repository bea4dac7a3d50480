from django.urls import path

from demo.views import index

app_name = "demo"
urlpatterns = [path("", index, name="index")]
