"""The process's copies of catalog agents, for ranking.

A copy holds an agent's row (all but its search vector and embedding), its profile
embedding as a unit vector, and its profile's lexemes. It is kept under the row's
version: PostgreSQL's `xmin` (the transaction that wrote it) and `ctid` (where it is).
Every UPDATE of a row (an admin edit, `load_agents`, a retirement, a bulk update that
skips `save()`) writes a new row version: a later transaction gives it a new xmin, and
a second update in the same transaction puts it at a new ctid. Ranking reads each candidate's
id and version from the database on every call and uses a copy only while it is the
row's current version, so the next call after an edit sees the edit.

The catalog is shared (public schema), not tenant data, so one set of copies per
process is right. At most MAX_COPIES are kept: the whole catalog today (152 agents,
about 2 MB); a much larger catalog keeps the agents ranking returned recently.
"""

from __future__ import annotations

import threading
from copy import deepcopy
from dataclasses import dataclass

import numpy as np
from django.db import connection

from agents.models import Agent
from llm.embeddings.base import DIMENSIONS

MAX_COPIES = 1000

_FIELDS = [field for field in Agent._meta.concrete_fields if field.attname not in ("embedding", "search_vector")]
FIELDS = [field.attname for field in _FIELDS]
# What the ORM would convert on reading (the JSON lists arrive as text from a cursor).
_CONVERTED = [(index, field.from_db_value) for index, field in enumerate(_FIELDS) if hasattr(field, "from_db_value")]
# A row's version, for `SELECT ... FROM agents_agent a`.
VERSION = "a.xmin::text || a.ctid::text"
LOAD_SQL = (
    "SELECT " + VERSION + ", a.embedding::real[], tsvector_to_array(a.search_vector), "
    + ", ".join(f'a."{name}"' for name in FIELDS)
    + " FROM agents_agent a WHERE a.id = ANY(%s)"
)


@dataclass(frozen=True)
class AgentCopy:
    version: str  # the row's version (VERSION) when it was read
    values: tuple  # the row's values, in FIELDS order
    vector: np.ndarray  # the profile embedding, unit length (float64); zeros if it has none
    lexemes: frozenset  # the profile's words as full-text search stems them
    # What ranking needs of every candidate, from `values`:
    id: int
    slug: str
    domain: str
    disposition: str
    incompatible_agents: list

    def agent(self) -> Agent:
        """A new Agent instance of this row (its embedding and search vector deferred),
        with its own JSON lists, so a caller may change it, even in place, without
        touching the copy every other request (of every tenant) is served from."""
        values = [deepcopy(value) if isinstance(value, (list, dict)) else value for value in self.values]
        return Agent.from_db(connection.alias, FIELDS, values)


_copies: dict[int, AgentCopy] = {}
_lock = threading.Lock()


def agent_copies(versions: dict[int, str]) -> dict[int, AgentCopy]:
    """Copies of the agents `versions` names ({id: version}), read from the database in
    one query for those not held at that version. An agent whose row is gone is left
    out; one changed since its version was read comes at its newer version."""
    found, missing = {}, []
    for agent_id, version in versions.items():
        held = _copies.get(agent_id)
        if held is not None and held.version == version:
            found[agent_id] = held
        else:
            missing.append(agent_id)
    if missing:
        loaded = _load(missing)
        with _lock:
            if len(_copies) + len(loaded) > MAX_COPIES:
                _copies.clear()
            if len(loaded) <= MAX_COPIES:
                _copies.update(loaded)
        found.update(loaded)
    return found


def _load(ids: list[int]) -> dict[int, AgentCopy]:
    with connection.cursor() as cursor:
        cursor.execute(LOAD_SQL, [ids])
        rows = cursor.fetchall()
    copies = {}
    for version, embedding, lexemes, *values in rows:
        for index, convert in _CONVERTED:
            values[index] = convert(values[index], None, connection)
        vector = np.asarray(embedding if embedding is not None else np.zeros(DIMENSIONS), dtype=np.float64)
        norm = np.linalg.norm(vector)
        row = dict(zip(FIELDS, values))
        copy = AgentCopy(version=version, values=tuple(values), vector=vector / norm if norm else vector,
                         lexemes=frozenset(lexemes or ()), id=row["id"], slug=row["slug"], domain=row["domain"],
                         disposition=row["disposition"], incompatible_agents=row["incompatible_agents"] or [])
        copies[copy.id] = copy
    return copies
