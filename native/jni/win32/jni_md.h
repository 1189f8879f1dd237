/*
 * The platform half of jni.h for 64-bit Windows, for the cross build: the machine that builds
 * forkless_jni.dll has a Linux JDK only, whose jni.h is platform neutral but whose jni_md.h is
 * not. What must match the Windows JDK, because it is ABI: jint is 32 bits (a long on Windows),
 * jlong 64 bits, jbyte a signed char; JNIEXPORT exports from the DLL; JNICALL is __stdcall, which
 * the x64 compilers accept and ignore (there is one calling convention there).
 */
#ifndef FORKLESS_WIN32_JNI_MD_H
#define FORKLESS_WIN32_JNI_MD_H

#ifndef _WIN32
#error "native/jni/win32/jni_md.h is for Windows builds only"
#endif

#define JNIEXPORT __declspec(dllexport)
#define JNIIMPORT __declspec(dllimport)
#define JNICALL __stdcall

typedef long jint;
typedef long long jlong;
typedef signed char jbyte;

#endif
