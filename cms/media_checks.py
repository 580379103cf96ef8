"""Checks on uploaded media that editors attach to pages."""

from __future__ import annotations

from django.utils.translation import gettext as _

# Browser-playable video formats: the extension and its MIME type (for the
# <source> element), and how such a file starts.
VIDEO_MIME_TYPES = {
    "mp4": "video/mp4",
    "m4v": "video/mp4",
    "webm": "video/webm",
    "ogv": "video/ogg",
}
VIDEO_EXTENSIONS = tuple(VIDEO_MIME_TYPES)
VIDEO_SIGNATURES = (
    lambda head: head[4:8] == b"ftyp",  # MP4 / M4V (ISO base media)
    lambda head: head[:4] == b"\x1a\x45\xdf\xa3",  # WebM (EBML)
    lambda head: head[:4] == b"OggS",  # Ogg video
)


def _looks_like_video(head: bytes) -> bool:
    return any(sig(head) for sig in VIDEO_SIGNATURES)


def video_problem(document) -> str | None:
    """Why ``document`` (a Wagtail document) cannot be played as a video,
    or None: the extension must be a browser-playable video format and the
    file must start like one (an MP4 'ftyp' box, WebM/Matroska's EBML
    header, Ogg's 'OggS'), so a renamed PDF or an .exe is refused."""
    if document is None:
        return _("请选择一个视频文件。")
    extension = document.file_extension.lower()
    if extension not in VIDEO_EXTENSIONS:
        return _("“%(title)s”不是视频文件：请上传 MP4 或 WebM 格式的视频。") % {
            "title": document.title
        }
    try:
        with document.file.open("rb") as handle:
            head = handle.read(64)
    except OSError:
        return _("视频文件“%(title)s”无法读取，请重新上传。") % {"title": document.title}
    if not _looks_like_video(head):
        return _("“%(title)s”的内容不是视频（文件可能损坏或改过扩展名），请重新上传。") % {
            "title": document.title
        }
    return None
