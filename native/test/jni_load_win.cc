// The cross-built JNI library as Windows loads it: LoadLibraryW of the real forkless_jni.dll
// under Wine (every import resolved: no toolchain DLL left to ship), then its JNI_OnLoad against
// a minimal JavaVM whose JNIEnv records RegisterNatives. No Windows JVM exists on this machine,
// so this is as far as the DLL can be run here; what it proves is that the library loads by
// itself, exports JNI_OnLoad, and registers exactly the native methods Native.java declares.
#include <jni.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "test_util_win.h"

#if defined(FORKLESS_JNI_DLL)

namespace {

std::set<std::string> registered;
std::string found_class;
int onload_version;

jint JNICALL GetEnv(JavaVM *, void **penv, jint);

jclass JNICALL FindClass(JNIEnv *, const char *name) {
    found_class = name;
    static int token;
    return reinterpret_cast<jclass>(&token);
}

jint JNICALL RegisterNatives(JNIEnv *, jclass, const JNINativeMethod *methods, jint n) {
    for (jint i = 0; i < n; i++) {
        EXPECT_NE(methods[i].fnPtr, nullptr) << methods[i].name;
        registered.insert(std::string(methods[i].name) + methods[i].signature);
    }
    return JNI_OK;
}

void JNICALL DeleteLocalRef(JNIEnv *, jobject) {}

// In C++ JNIEnv and JavaVM are structs whose first member points at the function table: the
// same layout the DLL's C code sees as a pointer to the table.
JNINativeInterface_ env_functions;
JNIEnv env_object;
JNIInvokeInterface_ vm_functions;
JavaVM vm_object;

jint JNICALL GetEnv(JavaVM *, void **penv, jint) {
    *penv = &env_object;
    return JNI_OK;
}

// "name(args)ret" for every `private static native` method of Native.java, from its source.
std::set<std::string> DeclaredNatives() {
    std::ifstream in(FORKLESS_NATIVE_JAVA);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string src = ss.str();
    std::set<std::string> names;
    std::regex decl(R"(private static native \S+ (\w+)\()");
    for (auto it = std::sregex_iterator(src.begin(), src.end(), decl); it != std::sregex_iterator(); ++it) {
        names.insert((*it)[1]);
    }
    return names;
}

TEST(JniWin, TheDllLoadsAndRegistersEveryNativeMethod) {
    HMODULE dll = LoadLibraryW(fltest::Wide(FORKLESS_JNI_DLL).c_str());
    ASSERT_NE(dll, nullptr) << FORKLESS_JNI_DLL << ": Win32 error " << GetLastError();
    auto onload = reinterpret_cast<jint(JNICALL *)(JavaVM *, void *)>(GetProcAddress(dll, "JNI_OnLoad"));
    ASSERT_NE(onload, nullptr);
    EXPECT_EQ(GetProcAddress(dll, "fl_spawn"), nullptr) << "the core stays private to the DLL";

    env_functions.FindClass = FindClass;
    env_functions.RegisterNatives = RegisterNatives;
    env_functions.DeleteLocalRef = DeleteLocalRef;
    vm_functions.GetEnv = GetEnv;
    env_object.functions = &env_functions;
    vm_object.functions = &vm_functions;
    onload_version = onload(&vm_object, nullptr);
    EXPECT_EQ(onload_version, JNI_VERSION_1_8);
    EXPECT_EQ(found_class, "dev/forkless/internal/Native");

    std::set<std::string> declared = DeclaredNatives();
    ASSERT_GT(declared.size(), 30u) << "Native.java not read: " << FORKLESS_NATIVE_JAVA;
    std::set<std::string> names;
    for (const std::string &m : registered) names.insert(m.substr(0, m.find('(')));
    EXPECT_EQ(names, declared);
    EXPECT_EQ(registered.size(), declared.size()) << "a method registered twice";
    FreeLibrary(dll);
}

}  // namespace

#endif
