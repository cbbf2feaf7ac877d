"""analysis/ingest/redact.py: the spellings of a name looked for in free text."""

from collections.abc import Sequence

from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.ingest.redact import _form_skeletons, _strip_forms, build_redactor, legal_forms

FORMS = ["株式会社", "(株)", "有限会社", "合同会社", "会社", "社", "Inc.", "Co., Ltd."]


def _strip_forms_reference(core: str, forms: Sequence[str]) -> str:
    """Every form tried in order, at the start then at the end, pass after pass (the definition,
    without the shortcut of the module's version)."""
    changed = True
    while changed:
        changed = False
        for form in forms:
            if core.startswith(form) and len(core) > len(form):
                core, changed = core[len(form) :], True
            if core.endswith(form) and len(core) > len(form):
                core, changed = core[: -len(form)], True
    return core


@settings(max_examples=examples(300), deadline=None)
@given(
    st.lists(
        st.sampled_from(["株式", "会社", "社", "株", "(株)", "有限", "合同", "A", "ベンチ", "inc.", "co.,ltd."]),
        max_size=7,
    ),
    st.lists(st.sampled_from(FORMS + ["株式", "ベンチ社"]), min_size=1, max_size=6, unique=True),
)
def test_legal_forms_are_stripped_as_their_definition_says(pieces, forms):
    skeletons = _form_skeletons(tuple(forms))
    core = "".join(pieces)
    assert _strip_forms(core, skeletons) == _strip_forms_reference(core, skeletons)


def test_a_name_is_looked_for_with_and_without_its_legal_form(codebook):
    redactor = build_redactor([], {}, legal_forms(codebook))
    assert redactor.marks == {}
    from analysis.ingest.redact import FoundName

    found = FoundName(column="company_name", name="サンプル商事株式会社 (架空)", source="a.xlsx!基本情報!B6")
    redactor = build_redactor([found], {"company_name": "[社名]"}, legal_forms(codebook))
    assert {"サンプル商事株式会社(架空)", "サンプル商事株式会社", "サンプル商事"} <= set(redactor.marks)
