// The CIB as comparable lines, on configurations shaped as crmsh 4 and pcs 0.11 write them for the
// same resource (element order, ids, interval="0" against "0s": as cibadmin --query showed them
// here), and pcs's default operations.
import test from 'ava';
import { configurationLines, pcsDefaultOperations } from '../helpers/parsers/cib.ts';
import { childText, parseXml } from '../helpers/parsers/xml.ts';

const byCrmsh = `<configuration>
  <resources>
    <clone id="cl_m">
      <meta_attributes id="cl_m-meta_attributes">
        <nvpair name="interleave" value="true" id="cl_m-meta_attributes-interleave"/>
      </meta_attributes>
      <primitive id="p_m" class="ocf" provider="openstack" type="memcached">
        <instance_attributes id="p_m-instance_attributes">
          <nvpair name="listen" value="127.0.0.1" id="p_m-instance_attributes-listen"/>
        </instance_attributes>
        <operations>
          <op name="start" timeout="90s" interval="0" id="p_m-start-0"/>
          <op name="monitor" interval="7s" timeout="30s" id="p_m-monitor-7s">
            <instance_attributes id="p_m-monitor-7s-instance_attributes">
              <nvpair name="OCF_CHECK_LEVEL" value="20" id="p_m-monitor-7s-instance_attributes-OCF_CHECK_LEVEL"/>
            </instance_attributes>
          </op>
        </operations>
      </primitive>
    </clone>
  </resources>
  <constraints>
    <rsc_colocation id="m-with-vip" score="INFINITY" rsc="cl_m" with-rsc="vip"/>
    <rsc_order id="vip-before-m" kind="Mandatory" first="vip" then="cl_m"/>
  </constraints>
</configuration>`;

const byPcs = `<configuration>
  <resources>
    <clone id="cl_m">
      <meta_attributes id="cl_m-meta_attributes">
        <nvpair id="cl_m-meta_attributes-interleave" name="interleave" value="true"/>
      </meta_attributes>
      <primitive id="p_m" class="ocf" type="memcached" provider="openstack">
        <instance_attributes id="p_m-instance_attributes">
          <nvpair id="p_m-instance_attributes-listen" name="listen" value="127.0.0.1"/>
        </instance_attributes>
        <operations>
          <op name="start" interval="0s" timeout="90s" id="p_m-start-interval-0s"/>
          <op name="monitor" interval="7s" timeout="30s" id="p_m-monitor-interval-7s">
            <instance_attributes id="p_m-monitor-interval-7s-instance_attributes">
              <nvpair id="p_m-monitor-interval-7s-instance_attributes-OCF_CHECK_LEVEL" name="OCF_CHECK_LEVEL" value="20"/>
            </instance_attributes>
          </op>
          <op name="stop" interval="0s" timeout="20s" id="p_m-stop-interval-0s"/>
        </operations>
      </primitive>
    </clone>
  </resources>
  <constraints>
    <rsc_colocation rsc="cl_m" with-rsc="vip" score="INFINITY" id="m-with-vip"/>
    <rsc_order first="vip" then="cl_m" first-action="start" then-action="start" id="vip-before-m"/>
  </constraints>
</configuration>`;

test('crmsh and pcs configurations of the same resource give the same lines, but for the operation pcs added', (t) => {
  const crmsh = configurationLines(byCrmsh);
  t.deepEqual(crmsh, [
    'clone cl_m p_m interleave=true',
    'colocation m-with-vip cl_m with vip score=INFINITY',
    'op p_m monitor interval=7s timeout=30s OCF_CHECK_LEVEL=20',
    'op p_m start interval=0s timeout=90s',
    'order vip-before-m vip:start then cl_m:start kind=Mandatory',
    'primitive p_m ocf:openstack:memcached listen=127.0.0.1',
  ]);
  t.deepEqual(configurationLines(byPcs), [...crmsh, 'op p_m stop interval=0s timeout=20s'].sort());
});

test('a different parameter, operation or constraint shows', (t) => {
  const crmsh = configurationLines(byCrmsh);
  t.notDeepEqual(configurationLines(byCrmsh.replace('value="127.0.0.1"', 'value="127.0.0.2"')), crmsh);
  t.notDeepEqual(configurationLines(byCrmsh.replace('value="20"', 'value="10"')), crmsh);
  t.notDeepEqual(configurationLines(byCrmsh.replace('kind="Mandatory"', 'kind="Optional"')), crmsh);
  t.notDeepEqual(configurationLines(byCrmsh.replace('score="INFINITY"', 'score="100"')), crmsh);
});

test('pcs default operations: every action but meta-data, status and validate-all; OCF_CHECK_LEVEL above depth 0', (t) => {
  const metadata = `<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="x" version="1"><version>1.1</version>
<longdesc lang="en">L &amp; more</longdesc><shortdesc lang="en">S</shortdesc>
<parameters/>
<actions>
<action name="start" timeout="60s" />
<action name="stop" timeout="30s" />
<action name="monitor" timeout="30s" interval="30s" depth="0" />
<action name="monitor" timeout="20s" interval="10s" depth="10" />
<action name="status" timeout="20s" />
<action name="validate-all" timeout="20s" />
<action name="reload" timeout="60s" />
<action name="meta-data" timeout="5s" />
</actions>
</resource-agent>`;
  t.deepEqual(pcsDefaultOperations('r', metadata), [
    'op r start interval=0s timeout=60s',
    'op r stop interval=0s timeout=30s',
    'op r monitor interval=30s timeout=30s',
    'op r monitor interval=10s timeout=20s OCF_CHECK_LEVEL=10',
    'op r reload interval=0s timeout=60s',
  ]);
  t.deepEqual(pcsDefaultOperations('r', metadata, ['monitor', 'start']), ['op r stop interval=0s timeout=30s', 'op r reload interval=0s timeout=60s']);
  t.is(childText(parseXml(metadata), 'longdesc'), 'L & more');
});

test('parseXml refuses what is not one well-formed document', (t) => {
  t.throws(() => parseXml('<a><b></a>'), { message: /not one well-formed.*mismatch/ });
  t.throws(() => parseXml('<a/><b/>'), { message: /not one well-formed XML document/ });
});
