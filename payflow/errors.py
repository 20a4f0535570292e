"""Error pages: JSON under /api/, HTML elsewhere (people never read JSON, clients no HTML)."""

from django.http import JsonResponse
from django.shortcuts import render


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else "You may not do this."
    if _wants_json(request):
        return JsonResponse({"code": "forbidden", "message": message, "fields": {}}, status=403)
    return render(request, "errors/403.html", {"message": message}, status=403)


def page_not_found(request, exception=None):
    if _wants_json(request):
        body = {"code": "not_found", "message": "No such resource.", "fields": {}}
        return JsonResponse(body, status=404)
    return render(request, "errors/404.html", status=404)


def server_error(request):
    request_id = getattr(request, "request_id", "")
    if _wants_json(request):
        body = {
            "code": "internal_error",
            "message": "Something went wrong on our side.",
            "fields": {},
            "request_id": request_id,
        }
        return JsonResponse(body, status=500)
    return render(request, "errors/500.html", {"request_id": request_id}, status=500)
