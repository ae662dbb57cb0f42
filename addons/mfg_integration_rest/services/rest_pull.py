"""Pagination of REST pulls: page number, offset, cursor token or next link.

``iter_pages`` only walks the pages; fetching (auth, errors) is the caller's ``fetch`` and
turning items into envelopes is the endpoint's, so each part can be tested alone.
"""
from urllib.parse import urljoin

from .rest_mapping import MappingError, get_path

PAGINATION_STYLES = [
    ("none", "Single response"),
    ("page", "Page number"),
    ("offset", "Offset / limit"),
    ("cursor", "Cursor token"),
    ("next_link", "Next link"),
]
MAX_PAGES = 1000


def iter_pages(fetch, url, params, *, style="none", items_path="", page_param="page",
               first_page=1, size_param="", page_size=0, offset_param="offset",
               cursor_param="cursor", next_cursor_path="", next_link_path="",
               max_pages=MAX_PAGES):
    """Yield (response data, items) per page; ``fetch(url, params)`` returns parsed JSON."""
    params = dict(params)
    if style == "page":
        params[page_param] = first_page
    elif style == "offset":
        params[offset_param] = 0
    if size_param and page_size:
        params[size_param] = page_size
    for _page in range(max_pages):
        data = fetch(url, params)
        items = get_path(data, items_path) if items_path else data
        if not isinstance(items, list):
            raise MappingError(f"the items at {items_path or 'the top level'} of the answer "
                               f"are not a list but {type(items).__name__}")
        yield data, items
        short_page = not items or (page_size and len(items) < page_size)
        if style == "page":
            if short_page:
                return
            params[page_param] += 1
        elif style == "offset":
            if short_page:
                return
            params[offset_param] += len(items)
        elif style == "cursor":
            token = get_path(data, next_cursor_path, None) if next_cursor_path else None
            if not token or not items:
                return
            params[cursor_param] = token
        elif style == "next_link":
            link = get_path(data, next_link_path, None) if next_link_path else None
            if not link or not items:
                return
            url, params = urljoin(url, link), {}
        else:
            return
    raise MappingError(f"stopped after {max_pages} pages: check the pagination settings")


def later(first, second):
    """The later of two since-cursor values (numbers compare as numbers, text as text)."""
    if first is None or first is False or first == "":
        return second
    if second is None or second is False or second == "":
        return first
    try:
        return first if float(first) >= float(second) else second
    except (TypeError, ValueError):
        return first if str(first) >= str(second) else second
