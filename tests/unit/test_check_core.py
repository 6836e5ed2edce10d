from collections.abc import Mapping

from patterns.check import NOT_ANSWERED, call_safely, not_ready, report


def test_report_prints_a_verdict(capsys):
    assert report("Ex", []) is True
    assert report("Ex", ["wrong sign", ""]) is False
    out = capsys.readouterr().out
    assert "✓ Ex: correct." in out and "✗ Ex: not yet." in out and "- wrong sign" in out


def test_not_ready_explains_missing_or_wrong_kinds_of_answer(capsys):
    assert not_ready("Ex", ...) and NOT_ANSWERED in capsys.readouterr().out
    assert not_ready("Ex", None)
    assert not_ready("Ex", 3, expect=callable) and "expected a function, got int" in capsys.readouterr().out
    assert not_ready("Ex", [1], expect=Mapping) and "expected a Mapping, got list" in capsys.readouterr().out
    assert not_ready("Ex", "s", expect=(int, float)) and "expected a int or float" in capsys.readouterr().out
    assert not not_ready("Ex", len, expect=callable)
    assert not not_ready("Ex", {"a": 1}, expect=Mapping)
    assert not not_ready("Ex", 0)
    assert capsys.readouterr().out == ""


def test_call_safely_turns_a_learners_bug_into_a_message():
    assert call_safely(lambda a, b: a + b, 1, 2) == (3, "")
    result, error = call_safely(lambda a: 1 / a, 0)
    assert result is None and error == "calling it with (0,) raised ZeroDivisionError: division by zero"
