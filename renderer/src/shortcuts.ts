/** Every keyboard shortcut, for the handler and the sheet shown on `?`. */
export interface Shortcut {
  keys: string;
  en: string;
  zh: string;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { keys: 'Ctrl+O', en: 'Open folder', zh: '打开文件夹' },
  { keys: '↓ / J / PageDown', en: 'Next image', zh: '下一张' },
  { keys: '↑ / K / PageUp', en: 'Previous image', zh: '上一张' },
  { keys: '← / →', en: 'Previous / next frame (multi-frame DICOM)', zh: '上一帧 / 下一帧' },
  { keys: 'S', en: 'Play / pause a cine loop (multi-frame DICOM; loop and speed on the bar under the image)', zh: '播放 / 暂停动态影像（多帧 DICOM；循环和速度在图像下方的播放条）' },
  { keys: '1 – 9, 0, G', en: 'Anatomy preset (G: intrapartum, symphysis and head with the angle of progression)', zh: '解剖预设（G：产时，耻骨联合与胎头及胎头进展角）' },
  { keys: 'A', en: 'Automatic segmentation', zh: '自动分割' },
  { keys: 'P', en: 'Positive click tool (Shift+click: negative)', zh: '正向点击（Shift+点击为负向）' },
  { keys: 'N', en: 'Negative click tool', zh: '负向点击' },
  { keys: 'B', en: 'Box tool', zh: '框选' },
  { keys: 'X', en: 'Box + clicks tool', zh: '框选 + 点击' },
  { keys: 'W', en: 'Window/level tool (or right-drag); presets on the viewer toolbar', zh: '窗宽/窗位（或右键拖动）；预设在图像工具栏' },
  { keys: 'I', en: 'Invert greys on/off', zh: '灰度反转 开/关' },
  { keys: 'Z', en: 'Magnifier loupe on/off', zh: '放大镜 开/关' },
  { keys: 'L', en: 'Ruler (drag; several per image, each saved)', zh: '标尺（拖动；每张图可画多把，均会保存）' },
  { keys: 'V', en: 'Angle (three clicks: arm, vertex, arm)', zh: '角度（点击三次：边、顶点、边）' },
  { keys: 'E', en: 'Manual ellipse for HC (two axis ends, then the other axis)', zh: '手动椭圆测头围（先点一条轴的两端，再点另一条轴）' },
  { keys: 'D', en: 'Polygon (click vertices; Enter or double-click closes)', zh: '多边形（点击顶点；Enter 或双击闭合）' },
  { keys: 'T', en: 'Free-hand trace (drag around the structure)', zh: '手绘轮廓（沿结构拖动）' },
  { keys: 'Delete', en: 'Delete the selected hand-drawn measurement', zh: '删除所选手动测量' },
  { keys: 'C', en: 'Calibrate on the depth scale', zh: '沿深度标尺校准' },
  { keys: 'Ctrl+Z', en: 'Undo prompt (the last drawing while a drawing tool is active or just after drawing)', zh: '撤销提示（使用绘制工具时或刚绘制后撤销绘制）' },
  { keys: 'Ctrl+Y / Ctrl+Shift+Z', en: 'Redo prompt (or drawing, as for undo)', zh: '重做提示（或绘制，同撤销）' },
  { keys: 'Esc', en: 'Drop a half-drawn shape, leave calibration or a drawing tool, else clear prompt and mask (closes dialogs first)', zh: '放弃未完成的图形，退出校准或绘制工具，否则清除提示和掩膜（先关闭对话框）' },
  { keys: 'M', en: 'New object (next prompts go to it)', zh: '新建目标（之后的提示作用于它）' },
  { keys: 'Shift+Delete', en: 'Delete the selected object', zh: '删除所选目标' },
  { keys: 'R', en: 'Mark image reviewed', zh: '标记为已审核' },
  { keys: 'F', en: 'Fit image to window', zh: '适应窗口' },
  { keys: '= ', en: 'Actual size (1:1)', zh: '原始大小 (1:1)' },
  { keys: '+ / −  or wheel', en: 'Zoom', zh: '缩放' },
  { keys: 'Space+drag / middle-drag', en: 'Pan', zh: '平移' },
  { keys: '[ / ]', en: 'Mask opacity down / up', zh: '降低 / 提高掩膜不透明度' },
  { keys: 'O', en: 'Outline only on/off', zh: '仅轮廓 开/关' },
  { keys: 'Ctrl+1 / Ctrl+2 / Ctrl+,', en: 'Review / Batch / Settings', zh: '阅片 / 批处理 / 设置' },
  { keys: '?', en: 'This sheet', zh: '本快捷键表' },
];
