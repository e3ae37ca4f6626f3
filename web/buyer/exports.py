"""CSV downloads of the buyer portal, streamed row by row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Response, stream_with_context


def csv_response(rows: Iterable[dict[str, Any]], columns: list[str], filename: str) -> Response:
    """A streamed CSV attachment with a header row; extra keys in a row are left out."""

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            if buffer.tell() > 8192:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
