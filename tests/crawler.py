"""Crawl the portal as one user, in process: every page, link, GET form, download and API list it can reach.

The need-to-know test looks for a secret in everything a crawl reads; the stored-XSS test
parses every HTML page a crawl reads. Both need the same crawl, so it lives here.
"""

import io
import json
import zipfile
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import pypdf

# Addresses the crawl leaves alone: signing out would end it; static files and the API's documentation
# hold no data; the admin site answers only administrators.
SKIPPED_PREFIXES = ("/accounts/logout/", "/admin/", "/static/", "/api/v1/docs/", "/api/v1/redoc/", "/i18n/")
# Attributes that hold an address the browser fetches (htmx partials included).
URL_ATTRIBUTES = ("href", "hx-get", "data-url", "data-href", "src")


@dataclass
class Form:
    action: str
    method: str
    fields: dict = field(default_factory=dict)  # name -> default value
    choices: dict = field(default_factory=dict)  # name -> every value a select or radio offers


class _PageParser(HTMLParser):
    """Collect the addresses and GET forms of one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._select_first: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in URL_ATTRIBUTES:
            if attrs.get(name) and tag != "img" and tag != "script":
                self.links.append(attrs[name])
        if tag == "form":
            self._form = Form(action=attrs.get("action") or "", method=(attrs.get("method") or "get").lower())
            self.forms.append(self._form)
        form, name = self._form, attrs.get("name")
        if form is None or (not name and tag != "option"):
            return
        if tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                form.choices.setdefault(name, []).append(attrs.get("value") or "on")
                if "checked" in attrs:
                    form.fields[name] = attrs.get("value") or "on"
            elif kind not in ("submit", "button", "file", "reset", "image"):
                form.fields[name] = attrs.get("value") or ""
        elif tag == "select":
            self._select, self._select_first = name, None
            form.choices.setdefault(name, [])
        elif tag == "option" and self._select:
            value = attrs.get("value") or ""
            form.choices[self._select].append(value)
            if self._select_first is None:
                self._select_first = value
                form.fields.setdefault(self._select, value)
            if "selected" in attrs:
                form.fields[self._select] = value
        elif tag == "textarea":
            form.fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def parse_page(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    return parser


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def readable_text(response, body: bytes) -> str:
    """Everything a person could read from a response: headers, and the body as text, whatever its format."""
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
    content_type = response.headers.get("Content-Type", "")
    if body.startswith(b"%PDF"):
        text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(body)).pages)
    elif body.startswith(b"PK\x03\x04"):
        # XLSX (and any zip): every member, the shared strings and the sheets' XML among them.
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            text = "\n".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    else:
        text = body.decode("utf-8", "replace")
    return f"{headers}\n{content_type}\n{text}"


def _same_site(base: str, address: str) -> str | None:
    """The path and query of ``address`` when it stays in the portal; None when it leaves it."""
    parts = urlsplit(urljoin("http://testserver" + base, address.strip()))
    if parts.scheme not in ("http", "https") or parts.netloc not in ("testserver", ""):
        return None
    if parts.path.startswith(SKIPPED_PREFIXES):
        return None
    return urlunsplit(("", "", parts.path, parts.query, ""))


@dataclass
class Visit:
    url: str
    status: int
    content_type: str
    text: str
    html: str  # the body, when it is an HTML page
    body: bytes

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class Crawler:
    """Breadth-first over the pages one client reaches, bounded in pages and in queries per path."""

    def __init__(self, client, *, max_pages: int = 400, queries_per_path: int = 40, skip: tuple[str, ...] = ()):
        self.client = client
        self.skip = skip  # parts of addresses not to fetch
        self.max_pages = max_pages
        self.queries_per_path = queries_per_path
        self.visits: dict[str, Visit] = {}
        self._queued: set[str] = set()
        self._per_path: dict[str, int] = {}
        self._queue: deque[str] = deque()

    def add(self, url: str | None):
        if url is None or url in self._queued or any(part in url for part in self.skip):
            return
        path, _sep, query = url.partition("?")
        if query:
            # Many combinations of filters lead to the same page: a bound per path keeps the crawl finite.
            if self._per_path.get(path, 0) >= self.queries_per_path:
                return
            self._per_path[path] = self._per_path.get(path, 0) + 1
        self._queued.add(url)
        self._queue.append(url)

    def fetch(self, url: str, **headers) -> Visit:
        response = self.client.get(url, **headers)
        content_type = response.headers.get("Content-Type", "")
        body = body_of(response)
        text = readable_text(response, body)
        html = body.decode("utf-8", "replace") if "text/html" in content_type else ""
        visit = Visit(url=url, status=response.status_code, content_type=content_type, text=text, html=html, body=body)
        self.visits[url] = visit
        if response.status_code in (301, 302, 303, 307, 308):
            self.add(_same_site(url, response.headers["Location"]))
        return visit

    def crawl(self, *starts: str) -> dict[str, Visit]:
        for start in starts:
            self.add(start)
        while self._queue and len(self.visits) < self.max_pages:
            url = self._queue.popleft()
            visit = self.fetch(url)
            if visit.html:
                self._follow(url, visit.html)
        return self.visits

    def _follow(self, url: str, html: str):
        page = parse_page(html)
        for link in page.links:
            self.add(_same_site(url, link))
        for form in page.forms:
            if form.method != "get":
                continue
            action = _same_site(url, form.action or url)
            if action is None:
                continue
            path = action.partition("?")[0]
            self.add(f"{path}?{urlencode(form.fields)}")
            # Each choice of each filter alone, the others left as they stand.
            for name, values in form.choices.items():
                for value in values:
                    self.add(f"{path}?{urlencode({**form.fields, name: value})}")


def api_crawl(client, *, probes: dict[str, list[str]], filters: dict[str, list[str]], page_size: int = 2) -> Crawler:
    """GET every endpoint of the OpenAPI schema: lists with their pages followed, filtered by every value
    an enumerated filter takes and by ``filters`` ({filter: values}); details of every identifier found
    in lists and of ``probes`` ({path parameter: values}). Lists are read ``page_size`` rows a page,
    so that following their pages is part of the crawl. Return the crawler: its visits, and
    ``lists``, the list endpoints."""
    crawler = Crawler(client, max_pages=10_000)
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    found: dict[tuple[str, str], set[str]] = {}
    lists, details = [], []
    for path, operations in schema["paths"].items():
        if "get" in operations:
            (details if "{" in path else lists).append((path, operations["get"]))
    for path, operation in lists:
        queries = [{"page_size": page_size}]
        for parameter in operation.get("parameters", []):
            name = parameter["name"]
            values = parameter.get("schema", {}).get("enum") or filters.get(name, [])
            queries += [{name: value, "page_size": page_size} for value in values if parameter.get("in") == "query"]
        for query in queries:
            url = f"{path}?{urlencode(query)}"
            while url:
                body = crawler.fetch(url, HTTP_ACCEPT="application/json").json()
                results = body.get("results", []) if isinstance(body, dict) else []
                for item in results:
                    for key in ("code", "id"):
                        if isinstance(item, dict) and item.get(key) is not None:
                            found.setdefault((path, key), set()).add(str(item[key]))
                following = body.get("next") if isinstance(body, dict) else None
                url = _same_site(url, following) if following else None
    for path, _operation in details:
        if path.count("{") > 1:
            continue  # only DELETE lives under two identifiers
        name = next(part[1:-1] for part in path.split("/") if part.startswith("{"))
        listed = found.get((path.partition("{")[0], name), set())
        for value in sorted(listed | set(probes.get(name, []))):
            crawler.fetch(path.replace("{" + name + "}", value), HTTP_ACCEPT="application/json")
    crawler.lists = [path for path, _operation in lists]
    return crawler
