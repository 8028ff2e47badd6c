@echo off
rem The `medus` command line of an installed MedUS Workstation (Windows): runs the bundled CLI
rem (resources\app.asar.unpacked\out\cli\medus.mjs) with the system's Node.js 20 or newer and the
rem model shipped with the app. The app's own binary cannot serve as Node (its runAsNode fuse is off).
rem Set MEDUS_NODE to choose a node.exe, MEDUS_MODEL (or --model) to use another model folder.
setlocal
set "RESOURCES=%~dp0.."
if not defined MEDUS_NODE set "MEDUS_NODE=node"
"%MEDUS_NODE%" -e "process.exit(Number(process.versions.node.split('.')[0]) >= 20 ? 0 : 1)" >nul 2>nul
if errorlevel 1 (
  echo medus: the command line needs Node.js 20 or newer ^(https://nodejs.org^) on PATH, or MEDUS_NODE set to its node.exe 1>&2
  exit /b 127
)
if not defined MEDUS_MODEL set "MEDUS_MODEL=%RESOURCES%\models\medus-s-v1"
"%MEDUS_NODE%" "%RESOURCES%\app.asar.unpacked\out\cli\medus.mjs" %*
exit /b %ERRORLEVEL%
