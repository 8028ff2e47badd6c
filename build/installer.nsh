; MedUS Workstation's additions to electron-builder's NSIS installer (nsis.include in
; build/electron-builder.yml): the `medus` command line, resources\bin\medus.cmd, on the PATH.
;
; The installer offers it: a Yes/No question in an interactive install; a silent install (/S)
; takes the default, Yes, unless /NOMEDUSPATH is on its command line. It goes on the machine PATH
; (the installer is per-machine and elevated), so every user's new consoles find `medus`. The
; uninstaller takes it off again; an update (the old uninstaller run by the new installer) keeps it.
;
; PATH is read and written in the registry, no plug-in needed. An NSIS string holds at most
; NSIS_MAX_STRLEN characters (1024 in a standard NSIS build), and a longer PATH cannot be read
; whole: it is then left exactly as it was and the install log says how to add the folder by hand.
; A PATH is never written back cut short.
;
; electron-builder compiles this twice: the installer, and (with BUILD_UNINSTALLER defined) the
; uninstaller. Each build gets only the functions it calls, because an unused function is a
; warning and electron-builder makes warnings errors.

!include "LogicLib.nsh"
!include "WinMessages.nsh"
!include "FileFunc.nsh"

!define MEDUS_ENVIRONMENT_KEY "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"

; $R0 = a PATH, $R1 = a folder. Out: $R2 = that PATH without the folder (compared without regard to
; case or a trailing backslash; every other entry kept as it was, empty ones too), $R3 = "1" when
; the folder was in it, else "0".
!macro MEDUS_PATH_WITHOUT PREFIX
  Function ${PREFIX}medusPathWithout
    Push $R4
    Push $R5
    Push $R6
    Push $R7
    StrCpy $R2 ""
    StrCpy $R3 "0"
    StrCpy $R4 0 ; position in $R0
    StrCpy $R5 "" ; the entry being read
    StrCpy $R7 "0" ; "1" once $R2 holds an entry
    medus_next_char:
      StrCpy $R6 $R0 1 $R4
      ${If} $R6 == ";"
      ${OrIf} $R6 == ""
        ${If} $R5 == $R1
        ${OrIf} $R5 == "$R1\"
          StrCpy $R3 "1"
        ${ElseIf} $R7 == "1"
          StrCpy $R2 "$R2;$R5"
        ${Else}
          StrCpy $R2 $R5
          StrCpy $R7 "1"
        ${EndIf}
        StrCpy $R5 ""
        ${If} $R6 == ""
          Goto medus_done
        ${EndIf}
      ${Else}
        StrCpy $R5 "$R5$R6"
      ${EndIf}
      IntOp $R4 $R4 + 1
      Goto medus_next_char
    medus_done:
    Pop $R7
    Pop $R6
    Pop $R5
    Pop $R4
  FunctionEnd
!macroend

; $R0 = the machine PATH; $R6 = "1" when it was read whole, else "0". The answer is a register, not
; the error flag, because testing the flag (IfErrors, LogicLib's ${Errors}) also clears it.
; A value longer than NSIS_MAX_STRLEN reads as "" with the error flag set (tried with NSIS 3.08
; under Wine): writing "" plus our folder back would wipe every other entry. A machine PATH is
; never really empty, so "" counts as unreadable too.
!macro MEDUS_READ_PATH
  StrCpy $R6 "0"
  ClearErrors
  ReadRegStr $R0 HKLM "${MEDUS_ENVIRONMENT_KEY}" "Path"
  ${IfNot} ${Errors}
  ${AndIf} $R0 != ""
    StrLen $R4 $R0
    ; a value of NSIS_MAX_STRLEN - 1 characters may be one that did not fit
    IntOp $R5 ${NSIS_MAX_STRLEN} - 1
    ${If} $R4 < $R5
      StrCpy $R6 "1"
    ${EndIf}
  ${EndIf}
!macroend

!macro MEDUS_PATH_CHANGED
  ; running programs (Explorer, so new consoles) re-read the environment
  SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=5000
!macroend

!ifndef BUILD_UNINSTALLER
  !insertmacro MEDUS_PATH_WITHOUT ""

  ; Adds $INSTDIR\resources\bin to the machine PATH, when asked to and when it is not there yet.
  Function medusOfferPath
    Push $R0
    Push $R1
    Push $R2
    Push $R3
    Push $R4
    Push $R5
    Push $R6
    StrCpy $R1 "$INSTDIR\resources\bin"
    ${GetParameters} $R0
    ClearErrors
    ${GetOptions} $R0 "/NOMEDUSPATH" $R2
    ${IfNot} ${Errors}
      DetailPrint "medus: not added to PATH (/NOMEDUSPATH); it is $R1\medus.cmd"
      Goto medus_offer_end
    ${EndIf}
    !insertmacro MEDUS_READ_PATH
    ${If} $R6 != "1"
      DetailPrint "medus: the machine PATH is too long for this installer to change safely; it was left as it was. To use medus from any console, add $R1 to PATH in System Properties > Environment Variables."
      Goto medus_offer_end
    ${EndIf}
    Call medusPathWithout
    ${If} $R3 == "1"
      DetailPrint "medus: $R1 is already on PATH"
      Goto medus_offer_end
    ${EndIf}
    MessageBox MB_YESNO|MB_ICONQUESTION "Add the medus command line to PATH for all users?$\r$\n$\r$\nThen 'medus' works in any new Command Prompt or PowerShell (batch segmentation, PACS, evaluation). It is $R1\medus.cmd either way." /SD IDYES IDYES medus_offer_add
    DetailPrint "medus: not added to PATH; it is $R1\medus.cmd"
    Goto medus_offer_end
    medus_offer_add:
    StrLen $R4 $R0
    StrLen $R5 $R1
    IntOp $R4 $R4 + $R5
    IntOp $R4 $R4 + 1
    ${If} $R4 >= ${NSIS_MAX_STRLEN}
      DetailPrint "medus: PATH would become too long for this installer to write safely; it was left as it was. Add $R1 to PATH by hand to use medus from any console."
      Goto medus_offer_end
    ${EndIf}
    StrCpy $R2 "$R0;$R1"
    ClearErrors
    WriteRegExpandStr HKLM "${MEDUS_ENVIRONMENT_KEY}" "Path" $R2
    ${If} ${Errors}
      DetailPrint "medus: PATH could not be written (administrator rights?); add $R1 to PATH by hand"
    ${Else}
      DetailPrint "medus: added $R1 to PATH"
      !insertmacro MEDUS_PATH_CHANGED
    ${EndIf}
    medus_offer_end:
    Pop $R6
    Pop $R5
    Pop $R4
    Pop $R3
    Pop $R2
    Pop $R1
    Pop $R0
  FunctionEnd

  !macro customInstall
    Call medusOfferPath
  !macroend
!else
  !insertmacro MEDUS_PATH_WITHOUT "un."

  ; Takes $INSTDIR\resources\bin off the machine PATH (every copy of it), leaving the rest as it was.
  Function un.medusRemovePath
    Push $R0
    Push $R1
    Push $R2
    Push $R3
    Push $R4
    Push $R5
    Push $R6
    StrCpy $R1 "$INSTDIR\resources\bin"
    !insertmacro MEDUS_READ_PATH
    ${If} $R6 != "1"
      DetailPrint "medus: the machine PATH could not be read whole; if it lists $R1, remove that entry by hand"
      Goto medus_remove_end
    ${EndIf}
    Call un.medusPathWithout
    ${If} $R3 == "1"
      ClearErrors
      WriteRegExpandStr HKLM "${MEDUS_ENVIRONMENT_KEY}" "Path" $R2
      ${IfNot} ${Errors}
        DetailPrint "medus: removed $R1 from PATH"
        !insertmacro MEDUS_PATH_CHANGED
      ${EndIf}
    ${EndIf}
    medus_remove_end:
    Pop $R6
    Pop $R5
    Pop $R4
    Pop $R3
    Pop $R2
    Pop $R1
    Pop $R0
  FunctionEnd

  !macro customUnInstall
    ; an update runs the old uninstaller first: the new version keeps the same folder on PATH
    ${IfNot} ${isUpdated}
      Call un.medusRemovePath
    ${EndIf}
  !macroend
!endif
