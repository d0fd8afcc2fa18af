"""The only loop: reads frames, advances the clock, feeds recognizer and machine, plays speech."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from datetime import datetime

import numpy as np

from voicecoach.actions import Expect, Output, Say, StopSpeaking
from voicecoach.app.keys import KeyReader, command_for_key
from voicecoach.app.overcoach import CancellerFrames
from voicecoach.app.selfhearing import SelfHearingGuard
from voicecoach.audio.echo import EchoCanceller
from voicecoach.audio.reconnect import Reconnecting
from voicecoach.clock import Clock
from voicecoach.commands import MOVE_ON
from voicecoach.errors import AudioDeviceError
from voicecoach.events import (
    DeviceChanged,
    EndReason,
    Event,
    Heard,
    Listener,
    SayEnded,
    SayStarted,
    SessionEnded,
)
from voicecoach.frames import FRAME_SAMPLES, FRAME_SECONDS, RATE_HZ, Samples, rms_dbfs
from voicecoach.ports import Hit, Microphone, ProgressFn, Recognizer, Speaker, Synthesizer
from voicecoach.session import Session

_LOGGER = logging.getLogger(__name__)

_QUIET = np.zeros(FRAME_SAMPLES, dtype=np.float32)


class Playback:
    """The utterance being played, handed to the speaker one frame at a time."""

    def __init__(self) -> None:
        self._samples: Samples | None = None
        self._position = 0

    @property
    def playing(self) -> bool:
        """True while an utterance has frames left."""
        return self._samples is not None

    def start(self, samples: Samples) -> None:
        """Replace whatever is playing with ``samples``."""
        self._samples = samples
        self._position = 0

    def stop(self) -> bool:
        """Cut the utterance off; True if one was playing."""
        was_playing = self._samples is not None
        self._samples = None
        return was_playing

    def next_frame(self) -> tuple[Samples, bool]:
        """The next frame to play, and whether the utterance finished with it."""
        if self._samples is None:
            return _QUIET, False
        start = self._position
        self._position += FRAME_SAMPLES
        frame = self._samples[start : self._position]
        done = self._position >= len(self._samples)
        if done:
            self._samples = None
            if len(frame) < FRAME_SAMPLES:
                frame = np.pad(frame, (0, FRAME_SAMPLES - len(frame)))
        return frame, done


class Runner:
    """Runs one session of a plan on the adapters it is given."""

    def __init__(
        self,
        *,
        session: Session,
        clock: Clock,
        mic: Microphone,
        speaker: Speaker,
        synthesizer: Synthesizer,
        recognizer: Recognizer,
        listeners: Sequence[Listener] = (),
        echo: EchoCanceller | None = None,
        guard: SelfHearingGuard | None = None,
        keys: KeyReader | None = None,
        level_listener: Callable[[float, float], None] | None = None,
        wall_clock: Callable[[], datetime] = lambda: datetime.now().astimezone(),
    ) -> None:
        self.session = session
        self.plan = session.plan
        self.clock = clock
        self.mic = mic
        self.speaker = speaker
        self.synthesizer = synthesizer
        self.recognizer = recognizer
        self.listeners = list(listeners)
        #: Removes the coach's voice from the microphone, with what we play as the reference.
        self.echo = echo
        #: Drops hits that are the coach's own words heard back.
        self.guard = guard
        #: Stream time (the audio's own, as the recognizer times utterances) since which the
        #: echo canceller has stayed converged; None while it learns. A hit is judged by the
        #: canceller's state when its words began (ended, when the start is unknown), not when
        #: the recognizer was done with them: Whisper, on its own thread and hearing a noisy
        #: room twice, may finish after the canceller has settled on words it had not yet
        #: cancelled, and words that began before it settled hold echo it had not learnt to
        #: take out. Not the live clock's time, which runs ahead of the audio by the device's
        #: buffering.
        self._converged_since: float | None = None
        #: The canceller's judgement of each recent frame: the coach alone, or a person too.
        self._canceller_frames = CancellerFrames()
        #: Key presses from a helper at the keyboard, live only.
        self.keys = keys
        self._last_played: Samples = _QUIET
        self._mic = Reconnecting(mic, "microphone")
        self._speaker = Reconnecting(speaker, "speaker")
        #: Told the microphone level (session seconds, dBFS) of every frame, for a meter.
        self.level_listener = level_listener
        self.playback = Playback()
        self._wall_clock = wall_clock
        self._end: SessionEnded | None = None
        #: What the session listens for now, so that text with several commands in it is taken
        #: for one the session acts on ("pain, it is numb" is pain outside a pain check).
        self._expect = Expect()
        self._prerendered = False

    def phrases(self) -> list[str]:
        """Every fixed phrase the session may say, for pre-rendering."""
        from voicecoach import spoken as texts

        fixed = [*texts.FIXED_TEXTS, *texts.setting_texts(self.session.settings)]
        plans = (
            [self.plan]
            if self.session.resume_plan is None
            else [self.plan, self.session.resume_plan]
        )
        texts_of_steps = [s.text for plan in plans for s in plan.steps if s.text]
        return list(dict.fromkeys(texts_of_steps + fixed))

    def prerender(self, progress: ProgressFn | None = None) -> None:
        """Render every phrase ahead (the synthesizer open), so that no cue or count is ever
        late; ``run`` does it unless it was done before, e.g. to show its progress live."""
        if not self._prerendered:
            self.synthesizer.prerender(self.phrases(), progress=progress)
            self._prerendered = True

    def run(self) -> SessionEnded:
        """Run the session to its end; Ctrl-C ends it cleanly with reason ``interrupted``."""
        with ExitStack() as stack:
            for adapter in (self.synthesizer, self.recognizer):
                stack.enter_context(adapter)
            for port in (self._mic, self._speaker):
                port.open()
                stack.callback(port.close)
            if self.keys is not None:
                stack.enter_context(self.keys)
            self.prerender()
            try:
                self._loop()
            except KeyboardInterrupt:
                self._interrupt("interrupted")
            except BaseException:
                self._interrupt("error")
                raise
        assert self._end is not None
        return self._end

    def _loop(self) -> None:
        # Session time and the recognizer's stream time both start at the first frame, so a
        # word's end in the microphone signal (``Heard.audio_end``) is on the session clock.
        self.clock.start()
        started_at = self._wall_clock().isoformat(timespec="seconds")
        self._apply(self.session.start(0.0, started_at), 0.0)
        while not self.session.finished:
            frame = self._read()
            if frame is None:
                self._interrupt("interrupted")
                return
            self.clock.frame_elapsed(FRAME_SECONDS)
            t = self.clock.now()
            if self.level_listener is not None:
                self.level_listener(t, rms_dbfs(frame))
            if self.echo is not None:
                frame = self.echo.process(frame, self._last_played)
                self._canceller_frames.note(self.echo.talking, self.echo.voice_above_echo)
                self._note_convergence(self._canceller_frames.stream_seconds)
            for hit in self.recognizer.feed(frame):
                self._heard(hit, t)
            if self.keys is not None:
                self._keys(t)
            out, done = self.playback.next_frame()
            self._play(out, t)
            self._last_played = out
            if done:
                self._publish([SayEnded(t, False)])
                self._apply(self.session.speech_ended(t), t)
            self._apply(self.session.tick(t), t)

    def _read(self) -> Samples | None:
        """The next microphone frame; silence, paced by the clock, while the mic is lost."""
        if not self._mic.lost:
            try:
                return self.mic.read()
            except AudioDeviceError as err:
                self._lose(self._mic, err)
        self.clock.pace(FRAME_SECONDS)
        if self._mic.retry(self.clock.now()):
            self._back(self._mic)
        return _QUIET

    def _play(self, frame: Samples, t: float) -> None:
        if self._speaker.lost:
            if self._speaker.retry(t):
                self._back(self._speaker)
            return
        try:
            self.speaker.play(frame)
        except AudioDeviceError as err:
            self._lose(self._speaker, err)

    def _lose(self, port: Reconnecting, err: AudioDeviceError) -> None:
        t = self.clock.now()
        _LOGGER.warning("%s lost: %s", port.name, err)
        self._publish([DeviceChanged(t, port.name, "lost", port.fail(t, err))])
        self._apply(self.session.device_lost(t, port.name), t)

    def _back(self, port: Reconnecting) -> None:
        t = self.clock.now()
        self._publish([DeviceChanged(t, port.name, "back", f"the {port.name} works again")])
        self._apply(self.session.device_back(t, port.name), t)

    def _heard(self, hit: Hit, t: float) -> None:
        at = hit.end_seconds if hit.end_seconds is not None else t
        numbers, answers = self._expect.numbers, self._expect.answers
        if (
            hit.ignored(numbers=numbers, answers=answers)
            or self._is_own_voice(hit, at)
            or self._left_of_the_coach(hit, at)
            or self._echo_moved(hit, at)
        ):
            return
        parsed = hit.check() if hit.unsure else hit.command(numbers=numbers, answers=answers)
        if parsed is not None and parsed.command in MOVE_ON and self._over_coach(hit, at):
            return
        command = None if parsed is None else parsed.command.value
        self._publish([Heard(t, hit.text, command, hit.confidence, hit.end_seconds)])
        if parsed is not None:
            self._apply(self.session.command(parsed, t), t)
            self.recognizer.reset()

    def _note_convergence(self, stream_seconds: float) -> None:
        """Keep when the echo canceller last became converged (``_converged_since``)."""
        if self.echo is None or not self.echo.converged:
            self._converged_since = None
        elif self._converged_since is None:
            self._converged_since = stream_seconds

    def _is_own_voice(self, hit: Hit, at: float) -> bool:
        """True for a hit that is the coach's own voice coming back through the room."""
        if self.guard is None:
            return False
        # An utterance that began before the canceller settled is not yet trusted: the echo
        # left from then came out as "You" in an intro, close enough to a safety word to be
        # asked about, and the unanswered question paused the session.
        heard_from = at if hit.start_seconds is None else hit.start_seconds
        converged = self.echo is None or (
            self._converged_since is not None and self._converged_since <= heard_from
        )
        # The echo reaches the microphone this long after the coach's voice left the speaker.
        delay_seconds = 0.0 if self.echo is None else self.echo.bulk_delay_seconds
        return self.guard.is_own_voice(
            hit.text, at, converged, hit.start_seconds, echo_delay_seconds=delay_seconds
        )

    def _left_of_the_coach(self, hit: Hit, at: float) -> bool:
        """True for a lone sound not understood (``CheckZone``), heard over the coach once the
        canceller had settled, in which the canceller never found more than the coach's echo:
        what it left of the coach, not a person."""
        since, start = self._converged_since, hit.start_seconds
        if hit.unsure_of != "" or start is None or since is None or since > start:
            return False
        over = self._canceller_frames.between(start, at)
        _LOGGER.debug(
            "lone sound %r %.2f-%.2f s: coach in %d of %d frames, more than its echo in %d",
            hit.text, start, at, over.coach_frames, over.frames, over.above_echo_frames,
        )  # fmt: skip
        if not over.only_coach:
            return False
        _LOGGER.info("discounted %r at %.2f s: nothing in it above the coach's echo", hit.text, at)
        return True

    def _echo_moved(self, hit: Hit, at: float) -> bool:
        """True for a hit worth only a question, heard over the coach while the device delay
        seems to have moved (``EchoCanceller.delay_in_doubt``): until the canceller follows the
        move, its echo comes through. A sure command is still taken."""
        if not hit.unsure or self.echo is None or not self.echo.delay_in_doubt:
            return False
        if self.guard is None or not self.guard.talking(at):
            return False
        _LOGGER.info("discounted %r at %.2f s: the device delay seems to have moved", hit.text, at)
        return True

    def _over_coach(self, hit: Hit, at: float) -> bool:
        """True for words that ended while the coach was talking (``commands.MOVE_ON``)."""
        if self.guard is None or not self.guard.talking(at):
            return False
        _LOGGER.info("ignored %r at %.2f s: it ended while the coach was talking", hit.text, at)
        return True

    def _keys(self, t: float) -> None:
        assert self.keys is not None
        for key in self.keys.poll():
            parsed = command_for_key(key, self.session.mode)
            if parsed is not None:
                self._publish([Heard(t, f"key {key}", parsed.command.value, 1.0, None)])
                self._apply(self.session.command(parsed, t), t)

    def _interrupt(self, reason: EndReason) -> None:
        if self._end is None:
            self._apply(self.session.interrupt(self.clock.now(), reason), self.clock.now())

    def _apply(self, outputs: Iterable[Output], t: float) -> None:
        for output in outputs:
            match output:
                case Say(text=text):
                    self._cut(t)
                    samples = self.synthesizer.render(text)
                    self.playback.start(samples)
                    if self.guard is not None:
                        self.guard.said(t, text, len(samples) / RATE_HZ)
                    self._publish([SayStarted(t, text)])
                case StopSpeaking():
                    self._cut(t)
                case Expect(numbers=numbers, answers=answers):
                    self._expect = output
                    self.recognizer.expect(numbers, answers)
                case _:
                    self._publish([output])

    def _cut(self, t: float) -> None:
        """Stop playback at once (within this frame) and log the cut-off utterance."""
        if self.playback.stop():
            if self.guard is not None:
                self.guard.cut(t)
            self._publish([SayEnded(t, True)])

    def _publish(self, events: Iterable[Event]) -> None:
        for event in events:
            if isinstance(event, SessionEnded):
                self._end = event
            for listener in self.listeners:
                listener.on_event(event)
