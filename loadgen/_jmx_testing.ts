/**
 * A .jmx builder for the `.jmx` import's tests. Private to `loadgen/`.
 *
 * @module
 */
/**
 * A minimal JMeter-5.x-shaped plan with the given Thread Group and sampler
 * properties, elements after the sampler (`extra`) and Test Plan variables.
 *
 * @param parts The pieces to put in.
 * @returns The .jmx text.
 */
export function jmx(
  { group = "", sampler = "", extra = "", planVars = "" }: {
    group?: string;
    sampler?: string;
    extra?: string;
    planVars?: string;
  } = {},
): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<jmeterTestPlan version="1.2" properties="5.0" jmeter="5.3">
  <hashTree>
    <TestPlan guiclass="TestPlanGui" testclass="TestPlan" testname="T" enabled="true">
      <elementProp name="TestPlan.user_defined_variables" elementType="Arguments">
        <collectionProp name="Arguments.arguments">${planVars}</collectionProp>
      </elementProp>
    </TestPlan>
    <hashTree>
      <ThreadGroup guiclass="ThreadGroupGui" testclass="ThreadGroup" testname="Users" enabled="true">
        <elementProp name="ThreadGroup.main_controller" elementType="LoopController">
          <stringProp name="LoopController.loops">5</stringProp>
        </elementProp>
        <stringProp name="ThreadGroup.num_threads">2</stringProp>
        ${group}
      </ThreadGroup>
      <hashTree>
        <TCPSampler guiclass="TCPSamplerGui" testclass="TCPSampler" testname="Echo" enabled="true">
          <stringProp name="TCPSampler.request">hi&#10;</stringProp>
          ${sampler}
        </TCPSampler>
        <hashTree/>
        ${extra}
      </hashTree>
    </hashTree>
  </hashTree>
</jmeterTestPlan>`;
}
