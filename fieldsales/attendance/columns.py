"""The columns of the attendance exports, in one list: the row field, its headers and its cell
type. The CSV (`lang=en`: machine-readable; `lang=zh`: for HR) and the .xlsx are all written
from COLUMNS, so a field added to the attendance row is one line here. No database, no Flask."""
from dataclasses import dataclass

# How a kind of cell is written. "machine" is the default CSV (the JSON row's values as text);
# "hr" is the Chinese CSV and the .xlsx (local times, team names).
KINDS = {
    "id": "a UUID as text",
    "text": "free text from people (a name): never run as a formula",
    "team": "machine: the team's id; hr: the team's name",
    "date": "the user's local date (a date cell in .xlsx)",
    "time": "machine: RFC 3339 UTC; hr: the user's local time `2026-11-26 09:30` (a date-time "
            "cell in .xlsx)",
    "int": "a whole number (a number cell in .xlsx)",
    "bool": "machine: true/false; hr CSV: 是/否; .xlsx: a boolean cell",
    "flags": "per-flag visit counts as `outside_geofence:2;low_accuracy:1`",
    "word": "a word of a closed vocabulary (status, daily_report)",
}


@dataclass(frozen=True)
class Column:
    field: str  # the attendance row's field (AttendanceRowSchema); the default CSV's header
    en: str  # header of the .xlsx in English
    zh: str  # header of the CSV and the .xlsx with lang=zh
    kind: str  # a key of KINDS

    def header(self, lang: str, *, machine: bool = False) -> str:
        if machine:
            return self.field
        return self.zh if lang == "zh" else self.en


COLUMNS = (
    Column("user_id", "User ID", "员工ID", "id"),
    Column("user_name", "Name", "姓名", "text"),
    Column("team_id", "Team", "团队", "team"),
    Column("date", "Date", "日期", "date"),
    Column("status", "Status", "出勤状态", "word"),
    Column("first_check_in_at", "First check-in", "首次签到时间", "time"),
    Column("last_check_out_at", "Last check-out", "最后签退时间", "time"),
    Column("worked_minutes", "Worked minutes", "工作时长(分钟)", "int"),
    Column("visits", "Visits", "拜访次数", "int"),
    Column("flagged_visits", "Flagged visits", "异常拜访次数", "int"),
    Column("flags", "Flags", "异常标记", "flags"),
    Column("daily_report", "Daily report", "日报", "word"),
    Column("plans", "Plans", "计划数", "int"),
    Column("plans_done", "Plans done", "已完成计划数", "int"),
    Column("late", "Late", "迟到", "bool"),
    Column("left_early", "Left early", "早退", "bool"),
    Column("outing", "Outing visits", "外出拜访次数", "int"),
    Column("corrected", "Corrected", "已补卡", "bool"),
)

assert all(c.kind in KINDS for c in COLUMNS)  # noqa: S101 -- a typo in the list fails at import

LANGS = ("en", "zh")
