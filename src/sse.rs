//! An incremental Server-Sent Events decoder written for judging, not only for reading.
//!
//! It follows the WHATWG event-stream rules (lines end in LF, CR or CRLF; `:` starts a comment;
//! `field: value` with one optional space after the colon; a line without a colon is a field
//! with an empty value; several `data` lines join with `\n`; a leading UTF-8 BOM is dropped), and
//! keeps what a judge needs that a reader throws away: each event's byte offset and arrival time,
//! the line endings it used, its comments, every field in order (also unknown ones), invalid
//! UTF-8, over-long lines, and an event left unterminated at end of stream, which is flushed and
//! marked rather than dropped.
//!
//! Bytes arrive in arbitrary pieces (a line, a multi-byte character, a CRLF may be split across
//! reads); the decoder gives the same events whatever the split. Memory is bounded by the
//! longest line it keeps ([`Limits::max_line_bytes`]); longer lines are cut and flagged.

use std::time::Duration;

/// Bounds on what the decoder keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A line longer than this is cut here (the rest is skipped) and flagged.
    pub max_line_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_bytes: 4 << 20,
        }
    }
}

/// Which line endings an event used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineEndings {
    pub lf: bool,
    pub crlf: bool,
    pub cr: bool,
}

impl LineEndings {
    pub fn any_other_than_lf(self) -> bool {
        self.crlf || self.cr
    }
}

/// One field line, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: String,
}

/// A block of lines ended by a blank line (or by the end of the stream).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Event {
    /// Position among the blocks of this stream, from 0.
    pub index: usize,
    /// Byte offset of the block's first line (after a BOM, offsets still count it).
    pub offset: u64,
    /// Byte offset just past the blank line that ended it (or the end of the stream).
    pub end: u64,
    /// When the block's first byte arrived.
    pub first_at: Duration,
    /// When the block was complete (its blank line, or the end of the stream, arrived).
    pub at: Duration,
    /// Field lines other than data, event, id and retry, in order (readers drop them).
    pub unknown: Vec<Field>,
    /// Comment lines (`:` removed, nothing else).
    pub comments: Vec<String>,
    /// The `data` lines joined with `\n`; `None` when the block has no `data` line.
    pub data: Option<String>,
    /// The last `event` field.
    pub event: Option<String>,
    pub id: Option<String>,
    pub retry: Option<String>,
    pub line_endings: LineEndings,
    /// False when the stream ended before the blank line that dispatches it.
    pub terminated: bool,
    /// Some line held invalid UTF-8 (decoded lossily).
    pub invalid_utf8: bool,
    /// Some line was longer than the limit and was cut.
    pub oversized_line: bool,
    /// A `data:` line had no space after the colon (`data:{...}`).
    pub data_without_space: bool,
}

impl Event {
    /// Only comments: a keep-alive, which no client dispatches.
    pub fn is_comment_only(&self) -> bool {
        self.unknown.is_empty()
            && self.data.is_none()
            && self.event.is_none()
            && self.id.is_none()
            && self.retry.is_none()
            && !self.comments.is_empty()
    }

    /// Field names other than data, event, id and retry.
    pub fn unknown_fields(&self) -> impl Iterator<Item = &Field> {
        self.unknown.iter()
    }
}

/// What the stream looked like as a whole.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamFacts {
    /// A UTF-8 byte order mark opened the stream.
    pub bom: bool,
    pub bytes: u64,
    /// Events decoded so far (comment-only blocks included).
    pub events: usize,
}

/// The incremental decoder. Feed bytes as they arrive, then call [`Decoder::finish`].
#[derive(Debug)]
pub struct Decoder {
    limits: Limits,
    facts: StreamFacts,
    /// Bytes of the current line not yet terminated (only when a line spans reads).
    line: Vec<u8>,
    line_oversized: bool,
    /// When the first byte of `line` arrived.
    line_at: Option<Duration>,
    /// Byte offset where `line` starts.
    line_start: u64,
    /// A CR ended the previous read (at this time): the pending line ends there, as CR or, if
    /// the next read opens with LF, as CRLF.
    pending_cr: Option<Duration>,
    /// The first bytes are checked for a BOM.
    bom_state: BomState,
    block: Option<Event>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BomState {
    /// Matched this many bytes of EF BB BF so far.
    Matching(u8),
    Done,
}

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(Limits::default())
    }
}

impl Decoder {
    pub fn new(limits: Limits) -> Self {
        Decoder {
            limits,
            facts: StreamFacts::default(),
            line: Vec::new(),
            line_oversized: false,
            line_at: None,
            line_start: 0,
            pending_cr: None,
            bom_state: BomState::Matching(0),
            block: None,
        }
    }

    pub fn facts(&self) -> StreamFacts {
        self.facts
    }

    /// Decodes `bytes`, which arrived at `at`; each completed event goes to `sink`.
    pub fn feed(&mut self, mut bytes: &[u8], at: Duration, sink: &mut impl FnMut(Event)) {
        if let BomState::Matching(n) = self.bom_state {
            let mut n = n as usize;
            while n < 3 {
                match bytes.first() {
                    None => {
                        self.bom_state = BomState::Matching(n as u8);
                        return;
                    }
                    Some(&b) if b == BOM[n] => {
                        n += 1;
                        bytes = &bytes[1..];
                        self.facts.bytes += 1;
                    }
                    Some(_) => break,
                }
            }
            self.bom_state = BomState::Done;
            if n == 3 {
                self.facts.bom = true;
            } else if n > 0 {
                // A partial BOM is ordinary content: replay it.
                self.facts.bytes -= n as u64;
                self.feed(&BOM[..n], at, sink);
            }
        }
        if bytes.is_empty() {
            return;
        }
        if let Some(cr_at) = self.pending_cr.take() {
            let ending = if bytes[0] == b'\n' {
                bytes = &bytes[1..];
                self.facts.bytes += 1;
                Ending::Crlf
            } else {
                Ending::Cr
            };
            self.end_pending_line(ending, cr_at, sink);
        }
        while !bytes.is_empty() {
            let Some(i) = memchr::memchr2(b'\n', b'\r', bytes) else {
                self.push_partial(bytes, at);
                self.facts.bytes += bytes.len() as u64;
                return;
            };
            let ending = match (bytes[i], bytes.get(i + 1)) {
                (b'\n', _) => Ending::Lf,
                (_, Some(b'\n')) => Ending::Crlf,
                (_, Some(_)) => Ending::Cr,
                (_, None) => {
                    // CR closes this read: decide CR or CRLF when the next read comes.
                    self.push_partial(&bytes[..i], at);
                    self.facts.bytes += (i + 1) as u64;
                    self.pending_cr = Some(at);
                    return;
                }
            };
            let ending_len = if ending == Ending::Crlf { 2 } else { 1 };
            if self.line.is_empty() && !self.line_oversized && self.line_at.is_none() {
                let start = self.facts.bytes;
                self.facts.bytes += (i + ending_len) as u64;
                let max = self.limits.max_line_bytes;
                let (line, oversized) = if i > max {
                    (&bytes[..max], true)
                } else {
                    (&bytes[..i], false)
                };
                self.on_line(line, oversized, start, at, ending, at, sink);
            } else {
                self.push_partial(&bytes[..i], at);
                self.facts.bytes += (i + ending_len) as u64;
                self.end_pending_line(ending, at, sink);
            }
            bytes = &bytes[i + ending_len..];
        }
    }

    /// The stream ended: a pending line and an unterminated block are flushed, the block marked
    /// `terminated: false`.
    pub fn finish(&mut self, at: Duration, sink: &mut impl FnMut(Event)) {
        if let BomState::Matching(n) = self.bom_state {
            self.bom_state = BomState::Done;
            if n > 0 {
                self.facts.bytes -= u64::from(n);
                self.feed(&BOM[..n as usize], at, sink);
            }
        }
        if let Some(cr_at) = self.pending_cr.take() {
            self.end_pending_line(Ending::Cr, cr_at, sink);
        }
        if self.line_at.is_some() {
            self.end_pending_line(Ending::Eof, at, sink);
        }
        if let Some(mut block) = self.block.take() {
            block.terminated = false;
            block.at = at;
            block.end = self.facts.bytes;
            self.facts.events += 1;
            sink(block);
        }
    }

    fn push_partial(&mut self, bytes: &[u8], at: Duration) {
        if self.line_at.is_none() {
            self.line_at = Some(at);
            self.line_start = self.facts.bytes;
        }
        let room = self.limits.max_line_bytes.saturating_sub(self.line.len());
        if bytes.len() > room {
            self.line.extend_from_slice(&bytes[..room]);
            self.line_oversized = true;
        } else {
            self.line.extend_from_slice(bytes);
        }
    }

    /// Ends the buffered line (its terminator already counted in `facts.bytes`).
    fn end_pending_line(&mut self, ending: Ending, at: Duration, sink: &mut impl FnMut(Event)) {
        let line = std::mem::take(&mut self.line);
        let oversized = std::mem::take(&mut self.line_oversized);
        let first_at = self.line_at.take().unwrap_or(at);
        let start = self.line_start;
        self.on_line(&line, oversized, start, first_at, ending, at, sink);
        self.line = line;
        self.line.clear();
    }

    #[allow(clippy::too_many_arguments)] // one call site per path; a struct would only rename them
    fn on_line(
        &mut self,
        line: &[u8],
        oversized: bool,
        start: u64,
        first_at: Duration,
        ending: Ending,
        at: Duration,
        sink: &mut impl FnMut(Event),
    ) {
        if line.is_empty() && !oversized {
            // A blank line dispatches the block (if any).
            if let Some(mut block) = self.block.take() {
                block.terminated = true;
                block.at = at;
                block.end = self.facts.bytes;
                note_ending(&mut block.line_endings, ending);
                self.facts.events += 1;
                sink(block);
            }
            return;
        }
        let index = self.facts.events;
        let block = self.block.get_or_insert_with(|| Event {
            index,
            offset: start,
            first_at,
            ..Event::default()
        });
        block.end = self.facts.bytes;
        note_ending(&mut block.line_endings, ending);
        block.oversized_line |= oversized;
        let text = match std::str::from_utf8(line) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => {
                block.invalid_utf8 = true;
                String::from_utf8_lossy(line)
            }
        };
        if let Some(comment) = text.strip_prefix(':') {
            block.comments.push(comment.to_owned());
            return;
        }
        let (name, value, spaced) = match text.find(':') {
            Some(i) => {
                let value = &text[i + 1..];
                match value.strip_prefix(' ') {
                    Some(v) => (&text[..i], v, true),
                    None => (&text[..i], value, value.is_empty()),
                }
            }
            None => (&*text, "", true),
        };
        if name == "data" && !spaced {
            block.data_without_space = true;
        }
        match name {
            "data" => match &mut block.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => block.data = Some(value.to_owned()),
            },
            "event" => block.event = Some(value.to_owned()),
            "id" => block.id = Some(value.to_owned()),
            "retry" => block.retry = Some(value.to_owned()),
            _ => block.unknown.push(Field {
                name: name.to_owned(),
                value: value.to_owned(),
            }),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Lf,
    Crlf,
    Cr,
    Eof,
}

fn note_ending(endings: &mut LineEndings, ending: Ending) {
    match ending {
        Ending::Lf => endings.lf = true,
        Ending::Crlf => endings.crlf = true,
        Ending::Cr => endings.cr = true,
        Ending::Eof => {}
    }
}

/// Decodes a whole stream given as `(bytes, arrival)` reads (tests, replay, fixtures).
pub fn decode_all<'a>(
    reads: impl IntoIterator<Item = (&'a [u8], Duration)>,
    limits: Limits,
) -> (Vec<Event>, StreamFacts) {
    let mut decoder = Decoder::new(limits);
    let mut events = Vec::new();
    let mut last = Duration::ZERO;
    for (bytes, at) in reads {
        decoder.feed(bytes, at, &mut |e| events.push(e));
        last = at;
    }
    decoder.finish(last, &mut |e| events.push(e));
    (events, decoder.facts())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Vec<Event> {
        decode_all([(bytes, Duration::ZERO)], Limits::default()).0
    }

    /// Events without timing, for comparing splits.
    fn shape(events: &[Event]) -> Vec<Event> {
        events
            .iter()
            .map(|e| Event {
                first_at: Duration::ZERO,
                at: Duration::ZERO,
                ..e.clone()
            })
            .collect()
    }

    const OPENAI: &str = "data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"h\u{e9}llo \u{1F600}\"}}]}\n\n: keep-alive\n\ndata: [DONE]\n\n";

    #[test]
    fn decodes_openai_style_data_events_and_comments() {
        let events = decode(OPENAI.as_bytes());
        assert_eq!(events.len(), 3);
        assert_eq!(
            events[0].data.as_deref(),
            Some("{\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"h\u{e9}llo \u{1F600}\"}}]}")
        );
        assert!(
            events[0].terminated
                && events[0].line_endings
                    == LineEndings {
                        lf: true,
                        ..LineEndings::default()
                    }
        );
        assert!(events[1].is_comment_only());
        assert_eq!(events[1].comments, [" keep-alive"]);
        assert_eq!(events[2].data.as_deref(), Some("[DONE]"));
        assert_eq!(events[2].index, 2);
        assert_eq!(events[2].end, OPENAI.len() as u64);
    }

    #[test]
    fn every_split_gives_the_same_events_even_inside_utf8_and_crlf() {
        for input in [
            OPENAI.as_bytes().to_vec(),
            OPENAI.replace('\n', "\r\n").into_bytes(),
            OPENAI.replace('\n', "\r").into_bytes(),
            b"\xEF\xBB\xBFdata: a\ndata: b\r\nevent: x\rid: 7\n\nretry: 5\n:c\ndata\n\n".to_vec(),
        ] {
            let whole = shape(&decode(&input));
            for cut in 0..=input.len() {
                let (a, b) = input.split_at(cut);
                let (split, _) = decode_all(
                    [(a, Duration::ZERO), (b, Duration::ZERO)],
                    Limits::default(),
                );
                assert_eq!(
                    shape(&split),
                    whole,
                    "cut at {cut} of {:?}",
                    String::from_utf8_lossy(&input)
                );
            }
            // And byte by byte.
            let bytes: Vec<(&[u8], Duration)> =
                input.chunks(1).map(|c| (c, Duration::ZERO)).collect();
            assert_eq!(shape(&decode_all(bytes, Limits::default()).0), whole);
        }
    }

    #[test]
    fn fields_follow_the_whatwg_rules() {
        let events = decode(b"\xEF\xBB\xBFdata:no-space\ndata:  two spaces\ndata\nevent: ping\nid: 1\nretry: 10\nerror: {\"x\":1}\n\n");
        let e = &events[0];
        assert!(e.data_without_space);
        assert!(!decode(b"data: x\n\n")[0].data_without_space);
        assert_eq!(e.data.as_deref(), Some("no-space\n two spaces\n"));
        assert_eq!(e.event.as_deref(), Some("ping"));
        assert_eq!(
            (e.id.as_deref(), e.retry.as_deref()),
            (Some("1"), Some("10"))
        );
        let unknown: Vec<&str> = e.unknown_fields().map(|f| f.name.as_str()).collect();
        assert_eq!(unknown, ["error"]);
        assert_eq!(e.offset, 3, "offsets count the BOM");
    }

    #[test]
    fn line_endings_are_recorded() {
        let e = &decode(b"data: a\r\n\r\n")[0];
        assert_eq!(
            e.line_endings,
            LineEndings {
                crlf: true,
                ..LineEndings::default()
            }
        );
        let e = &decode(b"data: a\r\r")[0];
        assert_eq!(
            e.line_endings,
            LineEndings {
                cr: true,
                ..LineEndings::default()
            }
        );
    }

    #[test]
    fn an_unterminated_last_event_is_flushed_and_flagged() {
        let events = decode(b"data: a\n\ndata: [DONE]\n");
        assert_eq!(events.len(), 2);
        assert!(events[0].terminated);
        assert!(!events[1].terminated);
        assert_eq!(events[1].data.as_deref(), Some("[DONE]"));
        let events = decode(b"data: [DONE]");
        assert!(!events[0].terminated);
        assert_eq!(events[0].data.as_deref(), Some("[DONE]"));
    }

    #[test]
    fn invalid_utf8_and_long_lines_are_flagged_with_bounded_memory() {
        let e = &decode(b"data: \xff\xfe\n\n")[0];
        assert!(e.invalid_utf8);
        let limits = Limits { max_line_bytes: 16 };
        let long = format!("data: {}\n\ndata: ok\n\n", "x".repeat(100));
        let (events, _) = decode_all(
            long.as_bytes().chunks(7).map(|c| (c, Duration::ZERO)),
            limits,
        );
        assert!(events[0].oversized_line);
        assert_eq!(events[0].data.as_deref(), Some("xxxxxxxxxx"));
        assert_eq!(events[1].data.as_deref(), Some("ok"));
    }

    #[test]
    fn arrival_times_are_the_reads_that_carried_the_bytes() {
        let reads: [(&[u8], Duration); 3] = [
            (b"data: a", Duration::from_millis(10)),
            (b"\n\ndata: b\n", Duration::from_millis(20)),
            (b"\n", Duration::from_millis(35)),
        ];
        let (events, facts) = decode_all(reads, Limits::default());
        assert_eq!(
            (events[0].first_at, events[0].at),
            (Duration::from_millis(10), Duration::from_millis(20))
        );
        assert_eq!(
            (events[1].first_at, events[1].at),
            (Duration::from_millis(20), Duration::from_millis(35))
        );
        assert_eq!(facts.bytes, 18);
    }

    /// Found by `cargo fuzz run sse_decoder`: a line over the limit inside one read was not cut,
    /// and a cut line spanning reads got the wrong offset.
    #[test]
    fn long_lines_are_cut_the_same_whatever_the_split() {
        let limits = Limits { max_line_bytes: 64 };
        let input = [vec![0x8c; 65], b"\n\n".to_vec()].concat();
        let (whole, _) = decode_all([(&input[..], Duration::ZERO)], limits);
        for cut in 0..=input.len() {
            let (a, b) = input.split_at(cut);
            let (split, _) = decode_all([(a, Duration::ZERO), (b, Duration::ZERO)], limits);
            assert_eq!(split, whole, "cut at {cut}");
        }
        assert!(whole[0].oversized_line);
        assert_eq!(whole[0].offset, 0);
    }
}
