"""Resolve the Companies, roles and channels a sheet names against the store.

``StoreCatalog.load`` reads what a sheet refers to through the rate-limited API
client, once per distinct value, and keeps the results for the run. The validator
then calls the synchronous ``Catalog`` methods, which do no I/O.

Names are matched after normalisation: Unicode NFKC, invisible characters removed,
runs of whitespace collapsed to one space, trimmed, then compared casefolded. When
several store entries match that way and exactly one of them is spelled as typed,
that one is used. Otherwise the value is ambiguous and the message lists the ids.
External ids (uuids) follow the same rule.

Company look-ups cost requests from the store's shared budget of 150 a minute:

- by id: ``GET /companies/{id}`` once per distinct id;
- by name: ``GET /companies?q=<name>`` once per distinct name (more when the
  partial matches fill more than one page);
- by external id: the API has no uuid filter that we know of, so every Company is
  listed once, paged, and indexed by uuid.

When the sheet names several Companies and listing every Company takes no more
pages than the separate look-ups would, the catalog lists them all and resolves
ids and names from that listing instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

import structlog

from provisioner.api.types import (
    COMPANY_STATUS_NAMES,
    B2BApi,
    Channel,
    Company,
    ExtraFieldDef,
    Role,
)
from provisioner.catalog import (
    UNCHECKED,
    CompanyKey,
    Problem,
    RoleChoice,
    Unchecked,
)
from provisioner.fields import INVISIBLE_CHARACTERS
from provisioner.model import Cell, LoadedSheet

log = structlog.get_logger(__name__)

T = TypeVar("T")

#: Largest page ``GET /companies`` returns.
COMPANY_PAGE_SIZE = 250

#: Look-ups in flight at once while loading; the API client paces them further.
LOOKUP_CONCURRENCY = 4

#: The full Company listing is only considered when the sheet needs at least this
#: many separate Company look-ups, because probing its size costs one request.
FULL_LISTING_MIN_LOOKUPS = 3

#: Closest names offered when a name is not found.
MAX_SUGGESTIONS = 3

#: Lowest difflib similarity ratio (0 to 1) for a name to be offered. It is the
#: default of difflib.get_close_matches.
SUGGESTION_CUTOFF = 0.6

#: Maximum number of names one message lists before it counts the rest.
MAX_LISTED_NAMES = 15

#: BigCommerce's built-in buyer roles, by the ``role`` number the API takes.
BUILTIN_ROLES: dict[str, int] = {"admin": 0, "senior buyer": 1, "junior buyer": 2}

#: Every BigCommerce store has a default storefront channel with id 1 (BigCommerce
#: developer documentation, "Channels").
DEFAULT_STOREFRONT_CHANNEL_ID = 1

COMPANY_KEYS: tuple[CompanyKey, ...] = ("companyId", "company", "companyExternalId")

_ID_PATTERN = re.compile(r"\d+(?:\.0+)?")
_INVISIBLE_TABLE = str.maketrans("", "", INVISIBLE_CHARACTERS)


def normalise_name(text: str) -> str:
    """Return ``text`` as names are compared before casefolding.

    NFKC folds full-width and compatibility forms (and turns a non-breaking space
    into a space), invisible characters are dropped, and runs of whitespace become
    one space.
    """
    folded = unicodedata.normalize("NFKC", text).translate(_INVISIBLE_TABLE)
    return " ".join(folded.split())


def name_key(text: str) -> str:
    """Return the key two names are equal by: normalised and casefolded."""
    return normalise_name(text).casefold()


def parse_id(text: str) -> int | None:
    """Parse a non-negative id typed as digits, or as ``101.0`` the way Excel saves it.

    Return None for anything else, including signs, exponents and other decimals.
    """
    value = normalise_name(text)
    if not _ID_PATTERN.fullmatch(value):
        return None
    return int(value.split(".")[0])


def company_ref(key: CompanyKey, value: str) -> tuple[CompanyKey, str] | None:
    """Normalise one Company reference, or return None when it cannot be looked up.

    Ids become plain digits (``101.0`` becomes ``101``), and names and external ids
    are normalised by ``normalise_name``. A name made only of digits is an id, as
    the validator reads it. Blank values and malformed ids give None.
    """
    text = normalise_name(value)
    if key == "company" and text.isascii() and text.isdigit():
        key = "companyId"
    if key == "companyId":
        company_id = parse_id(text)
        if company_id is None or company_id == 0:
            return None
        return key, str(company_id)
    if not text:
        return None
    return key, text


def collect_company_refs(sheet: LoadedSheet) -> set[tuple[CompanyKey, str]]:
    """Collect every distinct, well-formed Company reference in the sheet.

    The result is what ``StoreCatalog.load`` takes as ``company_refs``. Values are
    normalised as ``company_ref`` does, so each Company is looked up once.
    """
    refs: set[tuple[CompanyKey, str]] = set()
    for column in sheet.columns:
        key = _company_key(column.field)
        if key is None:
            continue
        for row in sheet.rows:
            if column.index >= len(row.cells):
                continue
            cell = row.cells[column.index]
            if cell.is_blank:
                continue
            ref = company_ref(key, _cell_text(cell))
            if ref is not None:
                refs.add(ref)
    return refs


def _company_key(field_name: str | None) -> CompanyKey | None:
    for key in COMPANY_KEYS:
        if field_name == key:
            return key
    return None


def _cell_text(cell: Cell) -> str:
    # XLSX stores an id typed into a number cell as a float, so 101.0 means 101.
    value = cell.value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return cell.text


class _CompanyDirectory:
    """Companies read from the store during one load, cached so no look-up repeats."""

    def __init__(self, api: B2BApi) -> None:
        self._api = api
        self._lock = asyncio.Lock()
        self._everything: list[Company] | None = None
        self._first_page: list[Company] | None = None
        self._total_count: int | None = None
        self._by_id: dict[int, Company | None] = {}

    async def list_everything(self) -> list[Company]:
        """List every Company, paged, on the first call only."""
        async with self._lock:
            if self._everything is None:
                first_page = self._first_page or []
                total_count = self._total_count
                if total_count is not None and len(first_page) >= total_count:
                    self._everything = first_page
                else:
                    self._everything = await _list_all_pages(
                        self._api, q=None, start=first_page
                    )
            return self._everything

    async def full_listing_is_cheaper(self, lookups: int) -> bool:
        """Read the first page of all Companies and compare the pages left to go.

        The first page is kept, so a full listing that follows costs no extra
        request for it.
        """
        page = await self._api.list_companies(offset=0, limit=COMPANY_PAGE_SIZE)
        self._first_page = list(page.items)
        self._total_count = page.total_count
        pages = max(1, math.ceil(page.total_count / COMPANY_PAGE_SIZE))
        return pages <= lookups

    async def get(self, company_id: int) -> Company | None:
        if self._everything is not None:
            for company in self._everything:
                if company.company_id == company_id:
                    return company
        # NOTE: whether GET /companies lists Companies in every status is not
        # documented, so an id missing from the listing is still asked for directly.
        if company_id not in self._by_id:
            self._by_id[company_id] = await self._api.get_company(company_id)
        return self._by_id[company_id]

    async def search_name(self, name: str) -> list[Company]:
        """Return the Companies whose name equals ``name`` after normalisation."""
        if self._everything is not None:
            candidates = self._everything
        else:
            candidates = await _list_all_pages(self._api, q=name, start=[])
        key = name_key(name)
        return [company for company in candidates if name_key(company.name) == key]

    async def search_uuid(self, uuid: str) -> list[Company]:
        everything = await self.list_everything()
        key = name_key(uuid)
        return [
            company
            for company in everything
            if company.uuid is not None and name_key(company.uuid) == key
        ]


async def _list_all_pages(
    api: B2BApi, *, q: str | None, start: list[Company]
) -> list[Company]:
    items = list(start)
    offset = len(items)
    while True:
        page = await api.list_companies(q=q, offset=offset, limit=COMPANY_PAGE_SIZE)
        items.extend(page.items)
        offset += len(page.items)
        # An empty page ends the loop even when total_count promises more.
        if not page.items or offset >= page.total_count:
            return items


async def _resolve_company_ref(
    directory: _CompanyDirectory, key: CompanyKey, text: str
) -> int | Problem:
    if key == "companyId":
        company_id = int(text)
        found = await directory.get(company_id)
        return _judge_companies([found] if found else [], f"with id {company_id}")

    if key == "companyExternalId":
        by_uuid = await directory.search_uuid(text)
        by_uuid = prefer_spelled_as_typed(by_uuid, text, lambda c: c.uuid or "")
        return _judge_companies(by_uuid, f'with external id "{text}"')

    by_name = await directory.search_name(text)
    if not by_name:
        everything = await directory.list_everything()
        return _company_name_not_found(text, [company.name for company in everything])
    by_name = prefer_spelled_as_typed(by_name, text, lambda c: c.name)
    return _judge_companies(by_name, f'named "{text}"')


def prefer_spelled_as_typed(
    matches: list[T], typed: str, spelling: Callable[[T], str]
) -> list[T]:
    """Keep the one match spelled exactly as typed when several match loosely.

    ``typed`` is normalised, and ``spelling`` returns the store's spelling of a
    match. Return ``matches`` unchanged unless exactly one is spelled as typed.
    """
    if len(matches) < 2:
        return matches
    as_typed = [item for item in matches if normalise_name(spelling(item)) == typed]
    return as_typed if len(as_typed) == 1 else matches


def _judge_companies(companies: Sequence[Company], described: str) -> int | Problem:
    """Return the id of the one approved Company, or the Problem with the matches."""
    if not companies:
        return Problem(
            "COMPANY_NOT_FOUND",
            f"No Company {described} exists in the store.",
            "Check the value against B2B Edition > Companies.",
        )
    if len(companies) > 1:
        listed = ", ".join(
            f"{company.company_id} ({_status_name(company.status)})"
            for company in sorted(companies, key=lambda company: company.company_id)
        )
        return Problem(
            "COMPANY_AMBIGUOUS",
            f"{len(companies)} Companies are {described}: ids {listed}.",
            "Put the intended Company's id in the companyId column instead.",
        )
    company = companies[0]
    if not company.is_approved:
        return Problem(
            "COMPANY_NOT_APPROVED",
            f'Company "{company.name}" (id {company.company_id}) is '
            f"{_status_name(company.status)}, not approved.",
            "Approve the Company in B2B Edition first, or choose an approved Company.",
        )
    return company.company_id


def _status_name(status: int) -> str:
    return COMPANY_STATUS_NAMES.get(status, f"in status {status}")


def _company_name_not_found(typed: str, existing: Sequence[str]) -> Problem:
    suggestions = suggest_names(typed, existing)
    if suggestions:
        quoted = " or ".join(f'"{name}"' for name in suggestions)
        fix = f"Did you mean {quoted}? Use the Company's exact name, or its id."
    else:
        fix = (
            "Check the spelling against B2B Edition > Companies, "
            "or give the Company's id."
        )
    return Problem("COMPANY_NOT_FOUND", f'No Company named "{typed}" exists.', fix)


def suggest_names(typed: str, existing: Iterable[str]) -> list[str]:
    """Return up to ``MAX_SUGGESTIONS`` of ``existing`` that look like ``typed``.

    Names that contain the typed text (or are contained in it) come first. Then
    come names whose whole text, or whose first words as many as typed, are close
    by difflib's ratio (at least ``SUGGESTION_CUTOFF``), best first. All comparisons
    ignore case and spacing.
    """
    by_key: dict[str, str] = {}
    for name in existing:
        by_key.setdefault(name_key(name), name)
    key = name_key(typed)
    if not key:
        return []

    containing = sorted(k for k in by_key if k and (key in k or k in key))
    words = len(key.split())
    scored: list[tuple[float, str]] = []
    for candidate in by_key:
        leading = " ".join(candidate.split()[:words])
        score = max(_similarity(key, candidate), _similarity(key, leading))
        if score >= SUGGESTION_CUTOFF:
            scored.append((score, candidate))
    close = [candidate for _, candidate in sorted(scored, key=lambda item: -item[0])]

    ordered = list(dict.fromkeys([*containing, *close]))
    return [by_key[k] for k in ordered[:MAX_SUGGESTIONS]]


def _similarity(first: str, second: str) -> float:
    return difflib.SequenceMatcher(None, first, second).ratio()


def _listing(names: Sequence[str]) -> str:
    listed = ", ".join(names[:MAX_LISTED_NAMES])
    hidden = len(names) - MAX_LISTED_NAMES
    return f"{listed} and {hidden} more" if hidden > 0 else listed


async def _load_companies(
    api: B2BApi, refs: set[tuple[CompanyKey, str]]
) -> dict[tuple[CompanyKey, str], int | Problem]:
    directory = _CompanyDirectory(api)
    # External ids can only be found in the full listing. Without them, the listing
    # is read only when it takes fewer requests than one look-up per id and name.
    needs_uuid = any(key == "companyExternalId" for key, _ in refs)
    lookups = len(refs)
    if needs_uuid or (
        lookups >= FULL_LISTING_MIN_LOOKUPS
        and await directory.full_listing_is_cheaper(lookups)
    ):
        await directory.list_everything()

    results: dict[tuple[CompanyKey, str], int | Problem] = {}
    semaphore = asyncio.Semaphore(LOOKUP_CONCURRENCY)

    async def resolve(key: CompanyKey, text: str) -> None:
        async with semaphore:
            results[(key, text)] = await _resolve_company_ref(directory, key, text)

    with _raise_first_failure():
        async with asyncio.TaskGroup() as group:
            for key, text in sorted(refs):
                group.create_task(resolve(key, text))
    return results


@contextlib.contextmanager
def _raise_first_failure() -> Iterator[None]:
    """Re-raise the first failure of an ``asyncio.TaskGroup`` as it was raised.

    A task group wraps failures in an ``ExceptionGroup``, but callers map
    ``AuthError`` and ``TransientApiError`` to exit codes by their type.
    """
    try:
        yield
    except ExceptionGroup as failures:
        raise _first_leaf(failures) from None


def _first_leaf(group: BaseExceptionGroup[Exception]) -> Exception:
    first = group.exceptions[0]
    if isinstance(first, BaseExceptionGroup):
        return _first_leaf(first)
    return first


class StoreCatalog:
    """The store's Companies, roles, channels and extra fields, read once for a run.

    Implements ``provisioner.catalog.Catalog``. Build it with ``load``. The
    constructor takes results that are already loaded, for tests and tools.
    """

    def __init__(
        self,
        *,
        companies: dict[tuple[CompanyKey, str], int | Problem],
        roles: Sequence[Role],
        channels: Sequence[Channel] | None,
        extra_fields: Sequence[ExtraFieldDef],
        default_channel_ids: Sequence[int] = (),
        requests: int = 0,
    ) -> None:
        self._companies = dict(companies)
        self._roles = tuple(roles)
        self._channels = None if channels is None else tuple(channels)
        self._extra_fields = tuple(extra_fields)
        self.default_channel_ids = tuple(default_channel_ids)
        self.requests = requests
        """API requests the load made (from the client's counters), for the plan."""

    @classmethod
    async def load(
        cls,
        api: B2BApi,
        *,
        company_refs: Iterable[tuple[CompanyKey, str]],
        default_channel_ids: Sequence[int] = (),
        extra_fields: Sequence[ExtraFieldDef] | None = None,
    ) -> StoreCatalog:
        """Read the store's settings and every referenced Company through ``api``.

        ``extra_fields`` skips ``GET /users/extra-fields`` when the caller has
        already read them. Raises what the API client raises for read failures
        (``AuthError``, ``TransientApiError``), because without the store no row can
        be checked.
        """
        before = api.stats.requests
        refs = {
            ref
            for key, value in company_refs
            if (ref := company_ref(key, value)) is not None
        }
        with _raise_first_failure():
            async with asyncio.TaskGroup() as group:
                companies_task = group.create_task(_load_companies(api, refs))
                roles_task = group.create_task(api.list_roles())
                channels_task = group.create_task(api.list_channels())
                extra_fields_task = group.create_task(
                    _read_extra_fields(api, extra_fields)
                )
        catalog = cls(
            companies=companies_task.result(),
            roles=roles_task.result(),
            channels=channels_task.result(),
            extra_fields=extra_fields_task.result(),
            default_channel_ids=default_channel_ids,
            requests=api.stats.requests - before,
        )
        log.info(
            "store_catalog_loaded",
            company_refs=len(refs),
            roles=len(catalog._roles),
            channels=None if catalog._channels is None else len(catalog._channels),
            extra_fields=len(catalog._extra_fields),
            requests=catalog.requests,
        )
        return catalog

    @property
    def multi_storefront(self) -> bool:
        """Whether the store lists its channels (a single-storefront store does not)."""
        return self._channels is not None

    # Companies

    def resolve_company(self, key: CompanyKey, value: str) -> int | Problem | Unchecked:
        """Return the approved Company's id that ``value`` names, or why it cannot.

        Values are normalised as ``collect_company_refs`` does. A well-formed value
        that was not among the ``company_refs`` given to ``load`` returns UNCHECKED,
        because looking it up now would need I/O.
        """
        ref = company_ref(key, value)
        if ref is None:
            return _malformed_company_ref(key, value)
        resolved = self._companies.get(ref)
        if resolved is None:
            log.warning("company_ref_not_loaded", key=key)
            return UNCHECKED
        return resolved

    # Roles

    def resolve_role(self, value: str) -> RoleChoice | Problem | Unchecked:
        """Resolve 0/1/2, a built-in role name, a store role's id or its name."""
        text = normalise_name(value)
        if not text:
            return Problem(
                "ROLE_MISSING",
                "The role is empty.",
                "Give Admin, Senior Buyer, Junior Buyer or a custom role's name.",
            )
        number = parse_id(text)
        if number is not None:
            return self._role_by_number(number, text)
        builtin = BUILTIN_ROLES.get(_builtin_role_key(text))
        if builtin is not None:
            return RoleChoice(role=builtin)
        key = name_key(text)
        matches = [role for role in self._roles if name_key(role.name) == key]
        matches = prefer_spelled_as_typed(matches, text, lambda role: role.name)
        if len(matches) == 1:
            return RoleChoice(company_role_id=matches[0].role_id)
        if not matches:
            return self._role_not_found(f'named "{text}"', text)
        ids = ", ".join(str(role.role_id) for role in matches)
        return Problem(
            "ROLE_AMBIGUOUS",
            f'{len(matches)} roles in the store are named "{text}": ids {ids}.',
            "Put the intended role's id in the role column instead of its name.",
        )

    def _role_by_number(self, number: int, text: str) -> RoleChoice | Problem:
        if number in BUILTIN_ROLES.values():
            return RoleChoice(role=number)
        for role in self._roles:
            if role.role_id == number:
                return RoleChoice(company_role_id=role.role_id)
        return self._role_not_found(f"with id {number}", text)

    def _role_not_found(self, described: str, text: str) -> Problem:
        names = list(dict.fromkeys(role.name for role in self._roles))
        custom = [
            name for name in names if _builtin_role_key(name) not in BUILTIN_ROLES
        ]
        fix = "Use Admin, Senior Buyer, Junior Buyer (or 0, 1, 2)"
        fix += f", or one of the store's roles: {_listing(custom)}." if custom else "."
        suggestions = suggest_names(
            text, ["Admin", "Senior Buyer", "Junior Buyer", *names]
        )
        if suggestions and parse_id(text) is None:
            fix = f'Did you mean "{suggestions[0]}"? ' + fix
        return Problem(
            "ROLE_NOT_FOUND", f"No role {described} exists in the store.", fix
        )

    # Channels

    def resolve_channel(self, value: str) -> int | Problem | Unchecked:
        """Resolve a channel id or name to a B2B-enabled BigCommerce channel id.

        On a single-storefront store the API lists no channels, so any positive id
        is accepted unchecked and names are rejected.
        """
        text = normalise_name(value)
        number = parse_id(text)
        if self._channels is None:
            if number is not None and number > 0:
                return number
            return self._channel_name_unsupported(text)
        if number is not None:
            matches = [c for c in self._channels if c.channel_id == number]
            described = f"with id {number}"
        else:
            key = name_key(text)
            matches = [c for c in self._channels if name_key(c.name) == key]
            matches = prefer_spelled_as_typed(matches, text, lambda c: c.name)
            described = f'named "{text}"'
        if not matches:
            return Problem(
                "CHANNEL_NOT_FOUND",
                f"No channel {described} exists in the store.",
                _capitalise(self._valid_channels_hint()),
            )
        if len(matches) > 1:
            ids = ", ".join(str(channel.channel_id) for channel in matches)
            return Problem(
                "CHANNEL_AMBIGUOUS",
                f"{len(matches)} channels are {described}: ids {ids}.",
                "Use the intended channel's id instead of its name.",
            )
        channel = matches[0]
        if not channel.b2b_enabled:
            return Problem(
                "CHANNEL_NOT_B2B",
                f'Channel {channel.channel_id} ("{channel.name}") is not enabled '
                "for B2B Edition.",
                "Enable B2B Edition on that storefront, or "
                + self._valid_channels_hint(),
            )
        # NOTE: a channel's status (active, inactive, archived, ...) is not checked,
        # because what the API does with a B2B-enabled channel that is not active is
        # not documented.
        return channel.channel_id

    def _valid_channels_hint(self) -> str:
        """Return the end of a fix sentence that lists the B2B-enabled channels."""
        enabled = [c for c in self._channels or () if c.b2b_enabled]
        if not enabled:
            return "use a B2B-enabled channel, which this store has none of yet."
        listed = _listing([f'{c.channel_id} ("{c.name}")' for c in enabled])
        return f"use one of the B2B-enabled channels: {listed}."

    def _channel_name_unsupported(self, text: str) -> Problem:
        if self.default_channel_ids:
            blank = "or leave the cell blank to use the configured default channels"
        else:
            blank = "or set defaults.channel_ids in the configuration"
        return Problem(
            "CHANNEL_NAME_UNSUPPORTED",
            f'Channel "{text}" cannot be looked up by name: the store has a single '
            "storefront, so the API lists no channels.",
            f"Use the channel id ({DEFAULT_STOREFRONT_CHANNEL_ID} for the default "
            f"storefront), {blank}.",
        )

    def check_default_channels(self) -> list[Problem]:
        """Return a Problem for each configured default channel the store rejects."""
        problems: list[Problem] = []
        for channel_id in self.default_channel_ids:
            resolved = self.resolve_channel(str(channel_id))
            if isinstance(resolved, Problem):
                problems.append(resolved)
        return problems

    # Extra fields

    def extra_fields(self) -> Sequence[ExtraFieldDef] | None:
        """Return the user extra fields that ``GET /users/extra-fields`` listed."""
        return self._extra_fields


async def _read_extra_fields(
    api: B2BApi, known: Sequence[ExtraFieldDef] | None
) -> Sequence[ExtraFieldDef]:
    if known is not None:
        return known
    return await api.list_extra_fields()


def _capitalise(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def _builtin_role_key(text: str) -> str:
    return " ".join(name_key(text).replace("_", " ").replace("-", " ").split())


def _malformed_company_ref(key: CompanyKey, value: str) -> Problem:
    if key == "companyId":
        return Problem(
            "COMPANY_ID_INVALID",
            f'"{normalise_name(value)}" is not a Company id.',
            "A Company id is a whole number such as 48213; put names in the company "
            "column.",
        )
    return Problem(
        "COMPANY_MISSING",
        "The Company is empty.",
        "Give the Company's id, exact name or external id.",
    )
