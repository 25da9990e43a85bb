import assert from "node:assert/strict";
import { parseXml, XmlError } from "./_xml.ts";
import { parseJmx } from "./jmx.ts";
import { parsePlanJson } from "./plan.ts";
import { assertUsageError as usage } from "./_assert_usage.ts";
import { jmx } from "./_jmx_testing.ts";

const JMX = await Deno.readTextFile(new URL("../fixtures/echo_tcp.jmx", import.meta.url));
const EXPECTED = await Deno.readTextFile(
  new URL("../fixtures/echo_tcp.plan.json", import.meta.url),
);

Deno.test("parseJmx() imports fixtures/echo_tcp.jmx as fixtures/echo_tcp.plan.json", () => {
  const { plan, notes } = parseJmx(JMX, "echo_tcp.jmx");
  assert.deepEqual(plan, parsePlanJson(EXPECTED, "echo_tcp.plan.json"));
  assert.deepEqual(notes, ['Ignored <ResultCollector "Summary Report"> (line 51)']);
});

Deno.test("parseJmx() applies JMeter's meaning to empty and missing values", () => {
  const { plan, notes } = parseJmx(jmx(), "min.jmx");
  assert.deepEqual(plan, {
    name: "T",
    threads: 2,
    loops: 5,
    rampUp: 0,
    message: "hi\n",
    connectTimeout: 0,
    responseTimeout: 0,
    reuseConnection: true,
    onError: "continue",
    noDelay: false, // JMeter's TCPSampler.nodelay default
    label: "Echo",
    threadGroup: "Users",
  });
  assert.match(notes[0], /^No EOL byte set: JMeter would read until the server closes/);
  const unnamed = jmx().replace('testname="T"', 'testname="Test Plan"');
  assert.equal(parseJmx(unnamed, "dir/my_echo.jmx").plan.name, "my_echo");
});

Deno.test("parseJmx() reads the scheduler, on-error actions, reuse and EOL bytes", () => {
  const { plan } = parseJmx(
    jmx({
      group: `<boolProp name="ThreadGroup.scheduler">true</boolProp>
        <stringProp name="ThreadGroup.duration">30</stringProp>
        <stringProp name="ThreadGroup.ramp_time">3</stringProp>
        <stringProp name="ThreadGroup.on_sample_error">stoptestnow</stringProp>`,
      sampler: `<boolProp name="TCPSampler.closeConnection">true</boolProp>
        <stringProp name="TCPSampler.EolByte">-1</stringProp>
        <stringProp name="TCPSampler.timeout">250</stringProp>
        <stringProp name="TCPSampler.ctimeout">100</stringProp>
        <stringProp name="TCPSampler.server">echo.local</stringProp>
        <intProp name="TCPSampler.port">7001</intProp>`,
    }),
    "s.jmx",
  );
  assert.equal(plan.duration, 30);
  assert.equal(plan.rampUp, 3);
  assert.equal(plan.onError, "stopTest");
  assert.equal(plan.reuseConnection, false);
  assert.equal(plan.eolByte, 255); // Java byte -1
  assert.equal(plan.responseTimeout, 250);
  assert.equal(plan.connectTimeout, 100);
  assert.equal(plan.host, "echo.local");
  assert.equal(plan.port, 7001);
  const off = parseJmx(
    jmx({ sampler: `<stringProp name="TCPSampler.EolByte">1000</stringProp>` }),
    "e.jmx",
  );
  assert.equal(off.plan.eolByte, undefined);
  assert.match(off.notes[0], /EOL byte 1000 is outside -128\.\.127/);
  // Without the scheduler a duration is ignored, as in JMeter.
  const noSched = parseJmx(
    jmx({ group: `<stringProp name="ThreadGroup.duration">30</stringProp>` }),
    "d.jmx",
  );
  assert.equal(noSched.plan.duration, undefined);
});

Deno.test("parseJmx() expands __P defaults, properties and User Defined Variables", () => {
  const planVars = `<elementProp name="msg" elementType="Argument">
    <stringProp name="Argument.name">msg</stringProp><stringProp name="Argument.value">\${greeting} there</stringProp>
  </elementProp><elementProp name="greeting" elementType="Argument">
    <stringProp name="Argument.name">greeting</stringProp><stringProp name="Argument.value">hello</stringProp>
  </elementProp>`;
  const text = jmx({
    planVars,
    group: `<stringProp name="ThreadGroup.ramp_time">\${__P(ramp)}</stringProp>`,
    sampler: `<stringProp name="TCPSampler.request">\${msg}&#10;</stringProp>
      <stringProp name="TCPSampler.port">\${__property(port,,7002)}</stringProp>`,
  }).replace(
    '<stringProp name="ThreadGroup.num_threads">2',
    '<stringProp name="ThreadGroup.num_threads">${__P(threads,10)}',
  );
  const { plan } = parseJmx(text, "v.jmx");
  assert.equal(plan.threads, 10);
  assert.equal(plan.rampUp, 1); // __P without a default gives "1"
  assert.equal(plan.message, "hello there\n");
  assert.equal(plan.port, 7002);
  assert.equal(parseJmx(text, "v.jmx", { properties: { threads: "3" } }).plan.threads, 3);
  // Nested functions: the inner __P is evaluated first, as in JMeter.
  const nested = jmx().replace(
    '<stringProp name="ThreadGroup.num_threads">2',
    '<stringProp name="ThreadGroup.num_threads">${__P(users,${__P(base,4)})}',
  );
  assert.equal(parseJmx(nested, "n.jmx").plan.threads, 4);
  assert.equal(parseJmx(nested, "n.jmx", { properties: { base: "6" } }).plan.threads, 6);
  assert.equal(parseJmx(nested, "n.jmx", { properties: { users: "8" } }).plan.threads, 8);
  usage(
    () =>
      parseJmx(
        jmx({ sampler: `<stringProp name="TCPSampler.port">\${__Random(1,9)}</stringProp>` }),
        "r.jmx",
      ),
    /^Invalid JMeter plan "r\.jmx": line \d+: <TCPSampler "Echo">: "TCPSampler\.port" uses "\$\{__Random\(1,9\)\}", which echokit cannot evaluate \(replace it with a value\)$/,
  );
});

Deno.test("parseJmx() uses a TCP Sampler Config's values as defaults", () => {
  const config =
    `<ConfigTestElement guiclass="TCPConfigGui" testclass="ConfigTestElement" testname="TCP Sampler Config" enabled="true">
      <stringProp name="TCPSampler.server">10.0.0.1</stringProp>
      <stringProp name="TCPSampler.port">7100</stringProp>
      <stringProp name="TCPSampler.EolByte">10</stringProp>
    </ConfigTestElement><hashTree/>`;
  const { plan } = parseJmx(
    jmx({ extra: config, sampler: `<stringProp name="TCPSampler.port">7200</stringProp>` }),
    "c.jmx",
  );
  assert.equal(plan.host, "10.0.0.1");
  assert.equal(plan.port, 7200); // the sampler's own value wins
  assert.equal(plan.eolByte, 10);
});

Deno.test("parseJmx() skips disabled elements and refuses what would change the measurement", () => {
  const disabled =
    `<HTTPSamplerProxy testclass="HTTPSamplerProxy" testname="web" enabled="false"/><hashTree/>`;
  assert.equal(parseJmx(jmx({ extra: disabled }), "ok.jmx").plan.threads, 2);
  usage(
    () =>
      parseJmx(
        jmx({
          extra: `<HTTPSamplerProxy testclass="HTTPSamplerProxy" testname="web"/><hashTree/>`,
        }),
        "h.jmx",
      ),
    /^Invalid JMeter plan "h\.jmx": line \d+: <HTTPSamplerProxy "web"> is not a TCP Sampler; echokit runs only TCP Samplers$/,
  );
  usage(
    () =>
      parseJmx(
        jmx({
          extra: `<PoissonRandomTimer testclass="PoissonRandomTimer" testname="wait"/><hashTree/>`,
        }),
        "t.jmx",
      ),
    /^Invalid JMeter plan "t\.jmx": line \d+: <PoissonRandomTimer "wait">: this timer is not supported \(echokit runs Constant, Uniform\/Gaussian Random, Constant Throughput and Precise Throughput Timers; disable it\)$/,
  );
  usage(
    () =>
      parseJmx(
        jmx({ extra: `<LoopController testclass="LoopController" testname="inner"/><hashTree/>` }),
        "l.jmx",
      ),
    /<LoopController "inner"> holds no TCP Sampler \(move the sampler into it or disable it\)/,
  );
  usage(
    () =>
      parseJmx(
        jmx({
          extra:
            `<TCPSampler testclass="TCPSampler" testname="Two"><stringProp name="TCPSampler.request">x</stringProp></TCPSampler><hashTree/>`,
        }),
        "2.jmx",
      ),
    /a second TCP Sampler <TCPSampler "Two">; echokit runs exactly one/,
  );
  usage(
    () =>
      parseJmx(
        jmx({
          sampler: `<stringProp name="TCPSampler.classname">BinaryTCPClientImpl</stringProp>`,
        }),
        "b.jmx",
      ),
    /TCP client "BinaryTCPClientImpl" is not supported \(use TCPClientImpl, the text client\)/,
  );
});

Deno.test("parseJmx() names the file, line, element and property in value errors", () => {
  usage(
    () => parseJmx(jmx().replace(">2</stringProp>", ">lots</stringProp>"), "n.jmx"),
    /^Invalid JMeter plan "n\.jmx": line 14: <ThreadGroup "Users">: "ThreadGroup\.num_threads" must be a whole number from 1 to 100000 \(got "lots"\)$/,
  );
  usage(
    () =>
      parseJmx(
        jmx({ group: `<stringProp name="ThreadGroup.on_sample_error">retry</stringProp>` }),
        "o.jmx",
      ),
    /"ThreadGroup\.on_sample_error" must be continue, startnextloop, stopthread, stoptest or stoptestnow \(got "retry"\)/,
  );
  usage(
    () => parseJmx(jmx().replace(">5</stringProp>", ">-1</stringProp>"), "i.jmx"),
    /loops forever without a duration/,
  );
  usage(
    () => parseJmx(jmx().replace("hi&#10;", ""), "e.jmx"),
    /<TCPSampler "Echo">: "TCPSampler\.request" is empty \(set the text to send\)/,
  );
  usage(
    () =>
      parseJmx(
        jmx({ sampler: `<stringProp name="TCPSampler.timeout">99999999</stringProp>` }),
        "t.jmx",
      ),
    /"TCPSampler\.timeout" must be a whole number from 0 to 3600000 \(got "99999999"\)/,
  );
  usage(
    () => parseJmx("<testPlan/>", "x.jmx"),
    /not a JMeter test plan \(the root element is <testPlan>/,
  );
  usage(
    () =>
      parseJmx(
        jmx().replace(
          'enabled="true">\n        <elementProp',
          'enabled="false">\n        <elementProp',
        ),
        "z.jmx",
      ),
    /no enabled Thread Group/,
  );
});

Deno.test("parseJmx() refuses DOCTYPE and ENTITY declarations outright", () => {
  const bomb = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<jmeterTestPlan>&lol2;</jmeterTestPlan>`;
  usage(
    () => parseJmx(bomb, "bomb.jmx"),
    'Invalid JMeter plan "bomb.jmx": line 2: DOCTYPE and ENTITY declarations are not allowed',
  );
  const xxe =
    `<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><jmeterTestPlan>&xxe;</jmeterTestPlan>`;
  usage(() => parseJmx(xxe, "xxe.jmx"), /DOCTYPE and ENTITY declarations are not allowed/);
  usage(
    () => parseJmx("<jmeterTestPlan>&xxe;</jmeterTestPlan>", "u.jmx"),
    /line 1: unknown entity "&xxe;"/,
  );
});

Deno.test("parseXml() reads attributes, entities, CDATA, comments and self-closing tags", () => {
  const root = parseXml(`\uFEFF<?xml version="1.0"?>
<!-- a comment with <tags> -->
<a x="1 &amp; 2" y='&quot;q&apos;' z="line&#10;break&#x9;tab">
  text &lt;&gt; &#x1F600;<![CDATA[ <raw> & stuff ]]><b/><c k = "v" ></c>
</a>
<!-- trailing -->`);
  assert.equal(root.name, "a");
  assert.deepEqual(root.attributes, { x: "1 & 2", y: `"q'`, z: "line\nbreak\ttab" });
  assert.equal(root.children[0], "\n  text <> \u{1F600} <raw> & stuff ");
  assert.deepEqual(root.children[1], { name: "b", attributes: {}, children: [], line: 4 });
  assert.deepEqual(root.children[2], { name: "c", attributes: { k: "v" }, children: [], line: 4 });
});

Deno.test("parseXml() reports malformed documents with their line", () => {
  const bad: [string, RegExp][] = [
    ["<a><b></a>", /closing tag <\/a> does not match <b> from line 1/],
    ["<a>\n<b>", /<b> from line 2 is not closed/],
    ["<a x=1/>", /attribute "x" in <a> must be quoted/],
    ['<a x="1" x="2"/>', /attribute "x" appears twice/],
    ["<a>&bogus;</a>", /unknown entity "&bogus;"/],
    ["<a>&#0;</a>", /invalid character reference "&#0;"/],
    ["<a>&#xD800;</a>", /invalid character reference/],
    ["<a>a & b</a>", /a bare "&" must be written as "&amp;"/],
    ["<a/><b/>", /a second root element/],
    ["<a/>text", /text outside the root element/],
    ["", /no root element/],
    ["<a><!-- x</a>", /comment is not closed/],
    ["<a><![CDATA[x</a>", /CDATA section is not closed/],
    ["<a", /<a> is not closed with >/],
    ["</a>", /closing tag <\/a> has no opening tag/],
    ['<a b="<"/>', /contains "<"/],
    ["<a><!ELEMENT x></a>", /unexpected markup/],
    ["<a>\n\n<!doctype x></a>", /line 3/],
  ];
  for (const [text, message] of bad) {
    assert.throws(() => parseXml(text), (err: unknown) => {
      assert.ok(err instanceof XmlError, `${text}: ${err}`);
      assert.match(err.message + ` line ${err.line}`, message, text);
      return true;
    });
  }
  assert.throws(() => parseXml("<a>".repeat(300)), /nest deeper than 256 levels/);
});

Deno.test("parseJmx() reads the startup delay only with the scheduler on, as JMeter does", () => {
  const group = (scheduler: boolean) =>
    `<boolProp name="ThreadGroup.scheduler">${scheduler}</boolProp>
     <stringProp name="ThreadGroup.duration">10</stringProp>
     <stringProp name="ThreadGroup.delay">\${__P(delay,3)}</stringProp>`;
  const on = parseJmx(jmx({ group: group(true) }), "d.jmx").plan;
  assert.equal(on.delay, 3);
  assert.equal(on.duration, 10);
  assert.equal(
    parseJmx(jmx({ group: group(true) }), "d.jmx", { properties: { delay: "0" } }).plan.delay,
    undefined,
  );
  const off = parseJmx(jmx({ group: group(false) }), "d.jmx").plan;
  assert.equal(off.delay, undefined);
  assert.equal(off.duration, undefined);
});

Deno.test("parseJmx() reads Constant Timers (summed), a Transaction Controller and Simple Controllers", () => {
  const extra = `<GenericController testclass="GenericController" testname="group"/><hashTree/>
    <TransactionController testclass="TransactionController" testname="Tx">
      <boolProp name="TransactionController.parent">true</boolProp>
    </TransactionController><hashTree/>
    <ConstantTimer testclass="ConstantTimer" testname="a">
      <stringProp name="ConstantTimer.delay">\${__P(think,30)}</stringProp></ConstantTimer><hashTree/>
    <ConstantTimer testclass="ConstantTimer" testname="b">
      <stringProp name="ConstantTimer.delay">12</stringProp></ConstantTimer><hashTree/>`;
  const { plan } = parseJmx(jmx({ extra }), "tx.jmx");
  assert.equal(plan.timerMs, 42);
  assert.deepEqual(plan.transaction, { name: "Tx", parentSample: true, includeTimers: false });
  // The same fields round-trip through a JSON plan.
  assert.deepEqual(parsePlanJson(JSON.stringify(plan), "tx.json"), plan);
  usage(
    () => parsePlanJson(JSON.stringify({ ...plan, transaction: { name: "" } }), "bad.json"),
    /field "transaction" must be \{"name": text/,
  );
  usage(
    () =>
      parseJmx(
        jmx({
          extra:
            `<TransactionController testclass="TransactionController" testname="A"/><hashTree/><TransactionController testclass="TransactionController" testname="B"/><hashTree/>`,
        }),
        "2tx.jmx",
      ),
    /line \d+: <TransactionController "B">: this controller is not supported/,
  );
});

Deno.test("parseJmx() honours TCPSampler.nodelay and refuses soLinger", () => {
  const on = jmx({ sampler: `<boolProp name="TCPSampler.nodelay">true</boolProp>` });
  assert.equal(parseJmx(on, "n.jmx").plan.noDelay, true);
  usage(
    () =>
      parseJmx(jmx({ sampler: `<stringProp name="TCPSampler.soLinger">5</stringProp>` }), "l.jmx"),
    /^Invalid JMeter plan "l\.jmx": line \d+: <TCPSampler "Echo">: "TCPSampler\.soLinger" is set \("5"\), which echokit does not support \(clear it\)$/,
  );
  // Empty, as JMeter writes it by default, is fine.
  const empty = jmx({ sampler: `<stringProp name="TCPSampler.soLinger"></stringProp>` });
  assert.equal(parseJmx(empty, "e.jmx").plan.noDelay, false);
});

Deno.test("parseJmx() multiplies the loops by a Loop Controller around the sampler", () => {
  const text = jmx().replace(
    /(<TCPSampler [\s\S]*?<\/TCPSampler>\s*<hashTree\/>)/,
    `<LoopController testclass="LoopController" testname="x3">
       <stringProp name="LoopController.loops">\${__P(inner,3)}</stringProp></LoopController>
     <hashTree>$1</hashTree>`,
  );
  assert.equal(parseJmx(text, "loop.jmx").plan.loops, 15); // 5 group loops × 3
  assert.equal(parseJmx(text, "loop.jmx", { properties: { inner: "4" } }).plan.loops, 20);
});

Deno.test("parseJmx() resolves ${var} from User Defined Variables on the Thread Group", () => {
  const udv = `<Arguments guiclass="ArgumentsPanel" testclass="Arguments" testname="Group vars">
      <collectionProp name="Arguments.arguments">
        <elementProp name="word" elementType="Argument">
          <stringProp name="Argument.name">word</stringProp>
          <stringProp name="Argument.value">pong-\${__P(n,1)}</stringProp>
        </elementProp>
      </collectionProp></Arguments><hashTree/>`;
  const text = jmx({ sampler: "", extra: udv }).replace("hi&#10;", "${word}&#10;");
  assert.equal(parseJmx(text, "v.jmx", { properties: { n: "7" } }).plan.message, "pong-7\n");
  usage(
    () => parseJmx(jmx().replace("hi&#10;", "${word}"), "nov.jmx"),
    /"TCPSampler\.request" uses "\$\{word\}", which echokit cannot evaluate/,
  );
});

Deno.test("parseJmx() honours -Jtcp.charset for the three charsets it encodes, refuses others", () => {
  const charset = (value: string) =>
    parseJmx(jmx(), "c.jmx", { properties: { "tcp.charset": value } }).plan.charset;
  assert.equal(charset("ISO-8859-1"), "ISO-8859-1");
  assert.equal(charset("latin1"), "ISO-8859-1");
  assert.equal(charset("us-ascii"), "US-ASCII");
  assert.equal(charset("UTF8"), "UTF-8");
  assert.equal(parseJmx(jmx(), "c.jmx").plan.charset, undefined);
  const line = jmx().split("\n").findIndex((l) => l.includes("<TCPSampler")) + 1;
  usage(
    () => charset("UTF-16"),
    new RegExp(
      `^Invalid JMeter plan "c\\.jmx": line ${line}: <TCPSampler "Echo">: charset "UTF-16" \\(tcp\\.charset\\) is not supported \\(use UTF-8, ISO-8859-1 or US-ASCII\\)$`,
    ),
  );
});

Deno.test("parseJmx() refuses setUp and tearDown Thread Groups by name, before counting groups", () => {
  for (const [tag, word] of [["SetupThreadGroup", "setUp"], ["PostThreadGroup", "tearDown"]]) {
    const extra =
      `<${tag} guiclass="x" testclass="${tag}" testname="prep"><stringProp name="ThreadGroup.num_threads">1</stringProp></${tag}><hashTree/>`;
    const text = jmx().replace(/(<TestPlan [^]*?<\/TestPlan>\s*<hashTree>)/, `$1${extra}`);
    usage(
      () => parseJmx(text, "s.jmx"),
      new RegExp(
        `^Invalid JMeter plan "s\\.jmx": line \\d+: <${tag} "prep"> is a ${word} Thread Group, which echokit does not run yet \\(disable it, or run its work as a separate plan\\)$`,
      ),
    );
  }
});
