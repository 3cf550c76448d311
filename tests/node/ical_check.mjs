// Parse iCalendar files with ical.js (Mozilla's parser, the one Thunderbird uses) and print what a
// calendar would show: per event UID, SEQUENCE, STATUS, attendees, LOCATION, URL, DESCRIPTION and the UTC
// instants of start and end.
// Usage: node ical_check.mjs FILE...   (prints one JSON object per file; exits 1 on a parse error)
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const out = [];
for (const file of process.argv.slice(2)) {
  const root = new ICAL.Component(ICAL.parse(readFileSync(file, "utf8")));
  for (const vtz of root.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(new ICAL.Timezone(vtz));
  }
  const events = root.getAllSubcomponents("vevent").map((vevent) => {
    const ev = new ICAL.Event(vevent);
    return {
      uid: ev.uid,
      sequence: ev.sequence,
      status: vevent.getFirstPropertyValue("status"),
      tzid: ev.startDate.zone ? ev.startDate.zone.tzid : null,
      start_utc: ev.startDate.toJSDate().toISOString(),
      end_utc: ev.endDate.toJSDate().toISOString(),
      attendees: ev.attendees.map((a) => String(a.getFirstValue()).replace(/^mailto:/i, "")),
      location: ev.location,
      url: vevent.getFirstPropertyValue("url"),
      description: ev.description,
    };
  });
  out.push({ file, method: root.getFirstPropertyValue("method"), events });
}
console.log(JSON.stringify(out));
