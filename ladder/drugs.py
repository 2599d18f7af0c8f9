"""The drug catalog (data/drugs.yaml) and name normalisation: 'Xolair 300mg' -> omalizumab."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field

_PARENS = re.compile(r"\(([^)]*)\)")
_SEPARATORS = re.compile(r"[,;/+]| and ")
_NOISE = re.compile(r"[^a-z0-9\- ]")


class Drug(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    generic: str
    drug_class: str = Field(alias="class")
    atc: str | None = None
    standard_daily_mg: float | None = None
    brands: list[str] = []
    misspellings: list[str] = []
    confirmed: bool = True
    source: str | None = None


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    classes: dict[str, str]
    drugs: list[Drug]


@dataclass(frozen=True)
class DrugMatch:
    """What a written drug name resolves to. `drug` is None when nothing in it is recognised."""

    written: str
    drug: Drug | None
    # A brand written beside the name that belongs to another drug: (brand, its generic).
    conflicting_brand: tuple[str, str] | None = None


def _key(name: str) -> str:
    return " ".join(_NOISE.sub(" ", name.lower()).split())


class DrugIndex:
    """Looks written names up among generics, brands and known misspellings."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._by_name: dict[str, tuple[Drug, bool]] = {}  # key -> (drug, is_brand)
        for drug in catalog.drugs:
            for name in [drug.generic, *drug.misspellings]:
                self._by_name[_key(name)] = (drug, False)
            for brand in drug.brands:
                self._by_name[_key(brand)] = (drug, True)

    def by_atc(self, code: str) -> Drug | None:
        """The drug with this ATC code (class-level entries have none)."""
        return next((d for d in self.catalog.drugs if d.atc and d.atc == code.strip().upper()), None)

    def lookup(self, name: str) -> tuple[Drug, bool] | None:
        key = _key(name)
        if key in self._by_name:
            return self._by_name[key]
        # "cetirizine 10 mg", "Xolair injection": the leading words may name the drug.
        words = key.split()
        for size in range(len(words) - 1, 0, -1):
            found = self._by_name.get(" ".join(words[:size]))
            if found:
                return found
        return None

    def resolve(self, written: str) -> DrugMatch:
        """Resolve a written name however a record pairs a brand with a generic ('abrocitinib
        (Xeljanz, Pfizer)', 'Xeljanz (abrocitinib)', 'abrocitinib/Xeljanz', 'abrocitinib
        Xeljanz'). A name written as a generic wins over a brand (else the first name); any other
        drug named beside it is reported as a conflict, never silently dropped."""
        main = _PARENS.sub(" ", written).strip()
        pieces = [part.strip() for part in _SEPARATORS.split(main) if part.strip()]
        pieces += [part.strip() for inner in _PARENS.findall(written)
                   for part in _SEPARATORS.split(inner) if part.strip()]
        hits: list[tuple[str, tuple[Drug, bool]]] = []
        for piece in pieces:
            hit = self.lookup(piece)
            if hit:
                hits.append((piece, hit))
            for word in _key(piece).split():  # another drug's brand in the same piece ("abrocitinib Xeljanz")
                other = self._by_name.get(word)
                if other and other[1] and (hit is None or other[0].generic != hit[0].generic):
                    hits.append((word, other))
        if not hits:
            return DrugMatch(written, None)
        generics = [h for h in hits if not h[1][1]]
        drug = (generics or hits)[0][1][0]
        for part, (other, _) in hits:
            if other.generic != drug.generic:
                return DrugMatch(written, drug, (part, other.generic))
        return DrugMatch(written, drug)

    def suggest(self, written: str) -> str | None:
        """The catalog name closest to a name it does not know ('Xoliar' -> 'Xolair')."""
        import difflib
        close = difflib.get_close_matches(_key(written), list(self._by_name), n=1, cutoff=0.75)
        if not close:
            return None
        drug, is_brand = self._by_name[close[0]]
        names = drug.brands if is_brand else [drug.generic, *drug.misspellings]
        return next((n for n in names if _key(n) == close[0]), drug.generic)


@lru_cache(maxsize=1)
def default_index() -> DrugIndex:
    text = resources.files("ladder").joinpath("data/drugs.yaml").read_text(encoding="utf-8")
    return DrugIndex(Catalog.model_validate(yaml.safe_load(text)))
