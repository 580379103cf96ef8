"""Printable documents: self-contained HTML to PDF (WeasyPrint), and QR
codes as inline SVG. Used by waybills (logistics/waybill.py), settlement
statements (shop/payment/statement_documents.py) and certificates
(cms/certificates.py). Fonts come from the system (fonts-noto-cjk)."""

from __future__ import annotations


def _no_network(url: str, *args, **kwargs):
    """WeasyPrint's resource fetcher: documents are self-contained, so only
    inline ``data:`` resources load; anything else is refused."""
    if url.startswith("data:"):
        from weasyprint import default_url_fetcher

        return default_url_fetcher(url, *args, **kwargs)
    raise ValueError(f"documents do not load external resources ({url[:80]})")


def html_to_pdf(html: str) -> bytes:
    """``html`` (with its CSS inline) as PDF bytes, without touching the
    network."""
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=_no_network, base_url=".").write_pdf()


def qr_svg(data: str) -> str:
    """``data`` as an inline SVG QR code (sized by the stylesheet)."""
    import segno

    return segno.make_qr(data, error="m").svg_inline(omitsize=True, border=2, dark="#000")
