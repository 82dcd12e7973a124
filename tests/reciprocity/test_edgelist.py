"""Reading another system's export: delimiters, decimal commas, exact scaling,
and a clear message naming the line for every mistake."""

from datetime import datetime

import pytest

from reciprocity.edgelist import EdgeListError, edge_list_read


def export(tmp_path, text, *, encoding="utf-8"):
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_amounts_are_scaled_exactly_by_the_most_decimals_in_the_file(tmp_path):
    path = export(tmp_path, "payer;payee;amount\nAnna;Bram;1,5\nBram;Cas;0,75\nCas;Anna;2\n")

    edges = edge_list_read(path=path)

    # Two decimals at most: everything in hundredths.
    assert edges.decimals == 2
    assert edges.amount.tolist() == [150, 75, 200]
    assert edges.names == ("Anna", "Bram", "Cas")
    assert edges.payer.tolist() == [0, 1, 2]
    assert edges.payee.tolist() == [1, 2, 0]
    assert str(edges.to_units(minor=425)) == "4.25"


def test_trailing_zeros_count_as_decimals(tmp_path):
    path = export(tmp_path, "payer,payee,amount\nAnna,Bram,3.10\nBram,Anna,2\n")

    edges = edge_list_read(path=path)

    assert (edges.decimals, edges.amount.tolist()) == (2, [310, 200])


def test_whole_amounts_stay_whole(tmp_path):
    path = export(tmp_path, "payer,payee,amount\nAnna,Bram,90\nBram,Anna,+30\n")

    edges = edge_list_read(path=path)

    assert (edges.decimals, edges.amount.tolist()) == (0, [90, 30])


def test_columns_in_any_order_and_case_with_extra_columns_tabs_and_a_byte_order_mark(tmp_path):
    text = "Memo\tAMOUNT\tPayee\tPayer\ntuin\t1.25\tBram\tAnna\n\nfiets\t2\tAnna\tBram\n"
    path = export(tmp_path, "\ufeff" + text)

    edges = edge_list_read(path=path)

    assert edges.names == ("Anna", "Bram")
    assert edges.payer.tolist() == [0, 1]
    assert edges.amount.tolist() == [125, 200]


def test_a_quoted_decimal_comma_between_comma_separated_fields(tmp_path):
    path = export(tmp_path, 'payer,payee,amount\nAnna,Bram,"1,5"\n')

    assert edge_list_read(path=path).amount.tolist() == [15]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "payer;payee;amount\nAnna;Bram;1\nBram;Anna;1\nCas;Anna;-2\n",
            "Line 4: the amount -2 is negative",
        ),
        ("payer;payee;amount\nAnna;Bram;0,00\n", "Line 2: the amount is zero"),
        ("payer;payee;amount\nAnna;Bram;twaalf\n", "Line 2: the amount “twaalf” is not a number"),
        (
            "payer;payee;amount\nAnna;Bram;1.234,50\n",
            "Line 2: the amount “1.234,50” is not a number",
        ),
        ("payer;payee;amount\nAnna;Bram;1e3\n", "Line 2: the amount “1e3” is not a number"),
        ("payer;payee;amount\nAnna;Bram;NaN\n", "Line 2: the amount “NaN” is not a number"),
        # An unquoted decimal comma splits the amount into two fields.
        ("payer,payee,amount\nAnna,Bram,1\n\nBram,Anna,1,5\n", "Line 4: it has 4 fields"),
        ("payer;payee;amount\nAnna;;1\n", "Line 2: the payer or the payee is empty"),
        ("payer;receiver;amount\nAnna;Bram;1\n", "Line 1: the header lacks payee"),
        ("payer;payee;amount;Payee\nAnna;Bram;1;Cas\n", "Line 1: the column “payee” appears twice"),
        ("", "Line 1: the file is empty"),
        ("payer;payee;amount\n\n", "no payments"),
    ],
)
def test_a_mistake_in_the_file_is_refused_naming_the_line(tmp_path, text, message):
    with pytest.raises(EdgeListError) as refused:
        edge_list_read(path=export(tmp_path, text))

    assert message in str(refused.value)


def test_a_file_that_is_not_utf8_is_refused_with_advice(tmp_path):
    path = export(tmp_path, "payer;payee;amount\nJosé;Bram;1\n", encoding="latin-1")

    with pytest.raises(EdgeListError, match="not UTF-8"):
        edge_list_read(path=path)


def test_a_missing_file_is_refused_by_name(tmp_path):
    with pytest.raises(EdgeListError, match="cannot be read"):
        edge_list_read(path=tmp_path / "nowhere.csv")


def test_a_window_keeps_the_last_days_up_to_the_latest_timestamp(tmp_path):
    text = (
        "payer;payee;amount;timestamp\n"
        "Anna;Bram;1;2025-01-01\n"
        "Bram;Cas;2;2025-03-02T01:00:00+02:00\n"
        "Cas;Anna;4;2025-03-31T23:30:00+02:00\n"
        "Anna;Cas;8;2025-04-01\n"
    )
    path = export(tmp_path, text)

    edges = edge_list_read(path=path, window_days=30)

    # Latest 2025-04-01 00:00; the window is later than 2025-03-02 00:00.
    # Times with a zone count in UTC: 01:00 in UTC+2 on 2 March is 23:00 UTC on
    # 1 March, outside; 23:30 in UTC+2 on 31 March is 21:30 UTC, inside.
    assert edges.amount.tolist() == [4, 8]
    assert edges.window == (datetime(2025, 3, 2), datetime(2025, 4, 1))
    assert edge_list_read(path=path).window is None


@pytest.mark.parametrize(
    ("text", "days", "message"),
    [
        ("payer;payee;amount\nAnna;Bram;1\n", 7, "Line 1: a window needs a timestamp column"),
        (
            "payer;payee;amount;timestamp\nAnna;Bram;1;1 maart\n",
            7,
            "Line 2: the timestamp “1 maart”",
        ),
        ("payer;payee;amount;timestamp\nAnna;Bram;1;2025-03-01\n", 0, "at least one day"),
    ],
)
def test_a_window_needs_iso_timestamps_on_every_line(tmp_path, text, days, message):
    with pytest.raises(EdgeListError) as refused:
        edge_list_read(path=export(tmp_path, text), window_days=days)

    assert message in str(refused.value)
