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


def _stub(a, b):
    """A docstring the student edition keeps."""
    raise NotImplementedError  # replace this line with your code


def _stub_with_message(a):
    raise NotImplementedError("write it")


def _written(a):
    if a < 0:
        raise NotImplementedError("negative numbers are not supported")
    return a


def test_a_function_that_only_raises_not_implemented_is_unanswered(capsys):
    from patterns.check import NOT_WRITTEN, is_stub, is_unanswered

    assert is_stub(_stub) and is_stub(_stub_with_message)
    assert is_unanswered(_stub) and is_unanswered(_stub_with_message)
    # a real answer that raises NotImplementedError on some path is not a stub; neither are
    # builtins, lambdas, classes or plain values
    for value in (_written, len, lambda: None, int, 3, "raise NotImplementedError", [_stub]):
        assert not is_stub(value)
    assert not_ready("Ex", _stub, expect=callable)
    out = capsys.readouterr().out
    assert "✗ Ex: not yet." in out and NOT_WRITTEN in out


def test_call_safely_says_not_written_for_a_stub_it_reaches():
    from patterns.check import NOT_WRITTEN

    def answer(x):
        return _stub_with_message(x)  # a learner's function calling an unwritten helper

    assert call_safely(answer, 1) == (None, NOT_WRITTEN)
