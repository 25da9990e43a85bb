/*
 * Lets Debian's JMeter 2.13 load .jmx files again (a lab tool for echokit's
 * JMeter conformance tests, not part of the product).
 *
 * Debian ships JMeter 2.13 with XStream 1.4.20, whose default security denies
 * every type that is not explicitly allowed. JMeter 2.13's SaveService
 * (org.apache.jmeter.save.SaveService, XStreamWrapper) predates that
 * framework and allows nothing, so every .jmx fails with
 * "ForbiddenClassException: org.apache.jmeter.save.ScriptWrapper".
 *
 * XStream.setupSecurity() installs NoTypePermission.NONE as the last rule of
 * its SecurityMapper, whose realClass() throws ForbiddenClassException when no
 * rule allows a type. This class replaces XStream's own NoTypePermission (same
 * name, same members) when it comes first on the classpath, and allows every
 * type, which is what XStream before 1.4.18 did. Only ever use it for trusted
 * plans on a test machine.
 */
package com.thoughtworks.xstream.security;

public class NoTypePermission implements TypePermission {
    public static final TypePermission NONE = new NoTypePermission();

    @Override
    public boolean allows(final Class type) {
        return true;
    }

    @Override
    public int hashCode() {
        return 1;
    }

    @Override
    public boolean equals(final Object obj) {
        return obj != null && obj.getClass() == NoTypePermission.class;
    }
}
