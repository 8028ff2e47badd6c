@echo off
rem The `medus` command line of an installed MedUS Workstation (Windows). It runs the app's own
rem MedUS Workstation.exe in its command-line mode (--medus-cli, electron/main/cli-mode.ts): no
rem window opens, and no Node.js is needed on the machine. The installer adds this folder to the
rem machine PATH (build/installer.nsh), so `medus` works in any new console.
rem Run from this .cmd, cmd.exe waits for the program (a GUI-subsystem .exe) and returns its exit
rem code; the program writes to this console, or to the file or pipe its output is redirected to.
rem MEDUS_MODEL (or --model) chooses another model folder. MEDUS_NODE=<path to node.exe> runs the
rem same bundled command line on that Node.js >= 20 instead (a fallback).
setlocal
set "RESOURCES=%~dp0.."
rem Electron sends nothing to the console when this is set
set "ELECTRON_NO_ATTACH_CONSOLE="
if defined MEDUS_NODE goto node
set "APP=%RESOURCES%\..\MedUS Workstation.exe"
rem no ( ) block: a folder chosen with /D= may hold parentheses, which would end it early
if exist "%APP%" goto app
echo medus: the MedUS Workstation program is not at "%APP%"; reinstall the app 1>&2
exit /b 127
:app
"%APP%" --disable-gpu --medus-cli %*
exit /b %ERRORLEVEL%
:node
"%MEDUS_NODE%" "%RESOURCES%\app.asar.unpacked\out\cli\medus.mjs" %*
exit /b %ERRORLEVEL%
