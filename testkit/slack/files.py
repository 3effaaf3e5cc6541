"""The fake Slack's files: what users shared (downloaded with the bot token) and what the app uploads.

Uploads take the two steps Slack documents: ``files.getUploadURLExternal`` answers an ``upload_url``
and a ``file_id``, the bytes are posted there, ``files.completeUploadExternal`` shares the files in a
channel or thread (https://docs.slack.dev/messaging/working-with-files#uploading_files).
A shared file's ``url_private`` needs the bot token; without it Slack answers its sign-in page with
200 (https://docs.slack.dev/messaging/working-with-files#authenticating).
"""

from __future__ import annotations

import itertools
from typing import Any

from aiohttp import web

__all__ = ["Files"]


class Files:
    """The file handlers of ``FakeSlack`` (which holds the state named here)."""

    root: str
    token: str
    ims: dict[str, str]
    files: dict[str, dict[str, Any]]
    shared: dict[str, bytes]
    _ts: itertools.count[int]

    def add_file(self, name: str, data: bytes, mimetype: str) -> dict[str, Any]:
        """A file a user shared in Slack, as a message event's ``files`` lists it."""
        file_id = f"F{next(self._ts):06d}"
        self.shared[file_id] = data
        return {
            "id": file_id,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "size": len(data),
            "url_private": f"{self.root}/files/{file_id}/{name}",
            "url_private_download": f"{self.root}/files/{file_id}/{name}",
        }

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ts):06d}"
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.root}/upload/{file_id}"}

    def _unknown_im(self, channel: str) -> bool:
        """A DM channel id (``D…``) the app has no DM of: ``channel_not_found``, as Slack answers a
        channel the token cannot see (https://docs.slack.dev/reference/methods/chat.postMessage#errors)."""
        return channel.startswith("D") and channel not in self.ims

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        if self._unknown_im(str(args.get("channel_id") or "")):
            return {"ok": False, "error": "channel_not_found"}
        for f in args.get("files") or []:
            self.files[f["id"]] = {
                "id": f["id"],
                "title": f.get("title"),
                "channel": args.get("channel_id"),
                "thread_ts": args.get("thread_ts"),
            }
        return {
            "ok": True,
            "files": [{"id": f["id"], "title": f.get("title")} for f in args.get("files") or []],
        }

    def _files_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        if self.files.pop(str(args.get("file")), None) is None:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True}

    async def _download(self, request: web.Request) -> web.Response:
        """A shared file for the bot token; anyone else gets Slack's sign-in page, with 200."""
        data = self.shared.get(request.match_info["file_id"])
        if request.headers.get("Authorization") != f"Bearer {self.token}" or data is None:
            return web.Response(text="<html><body>Sign in to Slack</body></html>", content_type="text/html")
        return web.Response(body=data, content_type="application/octet-stream")
